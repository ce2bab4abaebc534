// Direct convolution for few input channels (a network's first layer: C = 3), in Keras layouts:
// x [N,H,W,C], w [KH,KW,C,F], y [N,OH,OW,F]. The im2col matrix of such a layer is KH*KW times
// the image and feeds a GEMM only F wide; here each output pixel is computed straight from the
// image instead: four pixels by eight filters in registers, the kernel row read once for the four.
//
// A padded window reads a zero-padded copy of x, xp [N, HP, WP, C] with HP = (OH-1)*stride + KH
// and WP = (OW-1)*stride + KW, made in `scratch` (conv2d_direct_scratch_bytes);
// an unpadded one reads x. F must be a multiple of 4.

import { madd } from "./simd";

// Whether a window reaches outside x (TensorFlow's `same` may pad only at the bottom/right).
@inline function pads(H: i32, W: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32): bool {
  return padT > 0 || padL > 0 || (OH - 1) * stride + KH > H || (OW - 1) * stride + KW > W;
}

// xp: x with padT rows and padL columns of zeros before it and enough after, or x itself when no
// window reaches outside it. HP and WP are xp's height and width.
function padded(x: usize, N: i32, H: i32, W: i32, C: i32, HP: i32, WP: i32, padT: i32, padL: i32, scratch: usize): usize {
  if (HP == H && WP == W && padT == 0 && padL == 0) return x;
  memory.fill(scratch, 0, (<usize>N * HP * WP * C) << 2);
  const rows = min(H, HP - padT), cols = min(W, WP - padL);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < rows; h++) {
      const src = x + ((<usize>((n * H + h) * W) * C) << 2);
      const dst = scratch + ((<usize>((n * HP + h + padT) * WP + padL) * C) << 2);
      memory.copy(dst, src, (<usize>cols * C) << 2);
    }
  }
  return scratch;
}

// Bytes of the padded copy of x, or 0 when no window reaches outside x.
function paddedBytes(
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): u64 {
  if (!pads(H, W, KH, KW, stride, padT, padL, OH, OW)) return 0;
  return (<u64>N * <u64>((OH - 1) * stride + KH) * <u64>((OW - 1) * stride + KW) * <u64>C) << 2;
}

// Bytes of scratch the direct passes need: the padded copy of x (none when no window reaches
// outside x), then the kernel gradient's list of one image's pixels (8 bytes each). The engine
// sizes its scratch by this (in 64-bit integers, returned as a double: a size past 4 GiB is
// refused by the allocation rather than wrapped around).
export function conv2d_direct_scratch_bytes(
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): f64 {
  return <f64>(paddedBytes(N, H, W, C, KH, KW, stride, padT, padL, OH, OW) + (<u64>OH * <u64>OW << 3));
}

// y [N,OH,OW,F] = conv(x, w) + b [F] (b = 0: no bias); scratch: the padded copy's floats.
export function conv2d_direct_forward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, scratch: usize,
): void {
  assert(F % 4 == 0);
  const copy = pads(H, W, KH, KW, stride, padT, padL, OH, OW);
  const HP = copy ? (OH - 1) * stride + KH : H, WP = copy ? (OW - 1) * stride + KW : W;
  const xp = padded(x, N, H, W, C, HP, WP, padT, padL, scratch);
  const pixelStep = (<usize>stride * C) << 2; // bytes between the windows of two neighbouring outputs
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const rowIn = xp + ((<usize>((n * HP + oh * stride) * WP) * C) << 2);
      const rowOut = y + ((<usize>((n * OH + oh) * OW) * F) << 2);
      for (let f = 0; f < F; f += 8) {
        const two = f + 8 <= F;
        const bias0 = b != 0 ? v128.load(b + (<usize>f << 2)) : zero;
        const bias1 = b != 0 && two ? v128.load(b + (<usize>f << 2), 16) : zero;
        let ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
          let a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1, a20 = bias0, a21 = bias1, a30 = bias0, a31 = bias1;
          const win = rowIn + <usize>ow * pixelStep;
          for (let kh = 0; kh < KH; kh++) {
            let p = win + ((<usize>kh * WP * C) << 2);
            let q = w + ((<usize>(kh * KW * C) * F + f) << 2);
            for (let t = 0; t < KW * C; t++) {
              // Cell (kh, kw, c) of the window: t = kw * C + c, contiguous in x along kw and c.
              const w0 = v128.load(q), w1 = two ? v128.load(q, 16) : zero;
              const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p + pixelStep);
              const x2 = v128.load32_splat(p + 2 * pixelStep), x3 = v128.load32_splat(p + 3 * pixelStep);
              a00 = madd(x0, w0, a00); a01 = madd(x0, w1, a01);
              a10 = madd(x1, w0, a10); a11 = madd(x1, w1, a11);
              a20 = madd(x2, w0, a20); a21 = madd(x2, w1, a21);
              a30 = madd(x3, w0, a30); a31 = madd(x3, w1, a31);
              p += 4;
              q += <usize>F << 2;
            }
          }
          const o = rowOut + ((<usize>ow * F + f) << 2), fb = <usize>F << 2;
          v128.store(o, a00); v128.store(o + fb, a10); v128.store(o + 2 * fb, a20); v128.store(o + 3 * fb, a30);
          if (two) { v128.store(o, a01, 16); v128.store(o + fb, a11, 16); v128.store(o + 2 * fb, a21, 16); v128.store(o + 3 * fb, a31, 16); }
        }
        for (; ow < OW; ow++) {
          let a0 = bias0, a1 = bias1;
          const win = rowIn + <usize>ow * pixelStep;
          for (let kh = 0; kh < KH; kh++) {
            let p = win + ((<usize>kh * WP * C) << 2);
            let q = w + ((<usize>(kh * KW * C) * F + f) << 2);
            for (let t = 0; t < KW * C; t++) {
              const xv = v128.load32_splat(p);
              a0 = madd(xv, v128.load(q), a0);
              if (two) a1 = madd(xv, v128.load(q, 16), a1);
              p += 4;
              q += <usize>F << 2;
            }
          }
          const o = rowOut + ((<usize>ow * F + f) << 2);
          v128.store(o, a0);
          if (two) v128.store(o, a1, 16);
        }
      }
    }
  }
}

// dw [KH,KW,C,F] (+)= Σ over outputs of x's window cell · dy, db [F] (+)= column sums of dy
// (db = 0: no bias); `accumulate` adds instead of writing; scratch: the padded copy's floats, then
// the pixel list. One window row kh, eight (or four) filters and four cells of the row (kw, c) at
// a time, summed in registers over the output pixels of one image: its dy is read about
// KH * F/8 * KW*C / 4 times. Eight accumulators, two dy vectors and four broadcasts fill 14 of the
// 15 xmm registers V8 allocates: a tile of eight cells spilled an accumulator to the stack, and
// the loop then ran at the speed of a store-to-load round trip (~11 cycles a pixel instead of ~4).
//
// A layer followed by max pooling gets a sparse dy: pooling passes each window's gradient to one
// pixel, so after the ConvNet's 8x8 pool about one pixel in nine has a nonzero gradient in any
// of its eight filters. The pixels that do are listed once per image and filter group, and the
// passes run over the list, in the same order as over all pixels: the sums are the same, less
// the products by zero (only the sign of an all-zero sum may differ).
export function conv2d_direct_backward_kernel(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, accumulate: bool, scratch: usize,
): void {
  assert(F % 4 == 0);
  const copy = pads(H, W, KH, KW, stride, padT, padL, OH, OW);
  const HP = copy ? (OH - 1) * stride + KH : H, WP = copy ? (OW - 1) * stride + KW : W;
  const xp = padded(x, N, H, W, C, HP, WP, padT, padL, scratch);
  const list = scratch + <usize>paddedBytes(N, H, W, C, KH, KW, stride, padT, padL, OH, OW);
  const cells = KW * C, pixels = OH * OW;
  // Image by image, so that the many passes over one image's dy and x hit the cache.
  for (let n = 0; n < N; n++) {
    const add = accumulate || n > 0;
    const xImage = xp + ((<usize>n * HP * WP * C) << 2), dyImage = dy + ((<usize>n * pixels * F) << 2);
    for (let f = 0; f < F; f += 8) {
      const two = f + 8 <= F;
      const dyf = dyImage + (<usize>f << 2);
      const count = listPixels(dyf, OH, OW, F, stride, C, WP, two, list, db != 0 ? db + (<usize>f << 2) : 0, add);
      // Over the list when it leaves out a fifth of the pixels or more. At W1 (32 images, dy
      // nonzero on a random share of pixels) the list ran faster up to 80% and level at 90%.
      const listed = count * 5 <= pixels * 4;
      for (let kh = 0; kh < KH; kh++) {
        const xRow = xImage + ((<usize>kh * WP * C) << 2);
        const dwRow = dw + ((<usize>(kh * cells) * F + f) << 2);
        let t = 0;
        for (; t + 4 <= cells; t += 4) {
          if (listed) cells4Listed(xRow + (<usize>t << 2), dyf, dwRow + ((<usize>t * F) << 2), list, count, F, two, add);
          else cells4(xp, dy, dw, n, HP, WP, C, KW, F, stride, OH, OW, kh, t, f, two, add);
        }
        for (; t < cells; t++) {
          if (listed) cells1Listed(xRow + (<usize>t << 2), dyf, dwRow + ((<usize>t * F) << 2), list, count, two, add);
          else cells1(xp, dy, dw, n, HP, WP, C, KW, F, stride, OH, OW, kh, t, f, two, add);
        }
      }
    }
  }
}

// The pixels of one image whose dy at filters f..f+7 (f..f+3 unless `two`; dyf points at filter
// f) is not all zero, in row-major order, as pairs of byte offsets: the window's first cell from
// the image's start in xp (its lowest bit: ow's parity, for cells1Listed) and the pixel's dy from
// dyf. Returns how many. Branch-free: every pixel is stored and the count moves on the nonzero
// ones. The bias gradient is summed on the way (dbf: db at filter f, or 0): this is the one pass
// that reads all of dy.
function listPixels(
  dyf: usize, OH: i32, OW: i32, F: i32, stride: i32, C: i32, WP: i32, two: bool, list: usize, dbf: usize, add: bool,
): i32 {
  const zero = f32x4.splat(0);
  let s0 = zero, s1 = zero;
  let count = 0;
  const fb = <u32>F << 2, pixelStep = (<u32>stride * C) << 2, rowStep = (<u32>stride * WP * C) << 2;
  let q: u32 = 0;
  for (let oh = 0; oh < OH; oh++) {
    let p = <u32>oh * rowStep;
    for (let ow = 0; ow < OW; ow++) {
      const d = v128.load(dyf + q), g = two ? v128.load(dyf + q, 16) : zero;
      s0 = f32x4.add(s0, d);
      s1 = f32x4.add(s1, g);
      const e = list + (<usize>count << 3);
      store<u32>(e, p | (<u32>ow & 1));
      store<u32>(e, q, 4);
      count += <i32>v128.any_true(v128.or(d, g));
      p += pixelStep;
      q += fb;
    }
  }
  if (dbf != 0) {
    storeSum(dbf, s0, add);
    if (two) storeSum(dbf + 16, s1, add);
  }
  return count;
}

// cells4 over the listed pixels only. xCell: the image's cell t of window row kh in xp; dwRow:
// dw's row for that cell at filter f.
function cells4Listed(xCell: usize, dyf: usize, dwRow: usize, list: usize, count: i32, F: i32, two: bool, accumulate: bool): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  const end = list + (<usize>count << 3);
  for (let e = list; e < end; e += 8) {
    const p = xCell + <usize>(load<u32>(e) & ~1), q = dyf + <usize>load<u32>(e, 4);
    const d = v128.load(q), g = two ? v128.load(q, 16) : zero;
    const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p, 4), x2 = v128.load32_splat(p, 8), x3 = v128.load32_splat(p, 12);
    a0 = madd(x0, d, a0); a1 = madd(x1, d, a1); a2 = madd(x2, d, a2); a3 = madd(x3, d, a3);
    if (two) { b0 = madd(x0, g, b0); b1 = madd(x1, g, b1); b2 = madd(x2, g, b2); b3 = madd(x3, g, b3); }
  }
  const fb = <usize>F << 2;
  storeSum(dwRow, a0, accumulate); storeSum(dwRow + fb, a1, accumulate); storeSum(dwRow + 2 * fb, a2, accumulate); storeSum(dwRow + 3 * fb, a3, accumulate);
  if (two) {
    storeSum(dwRow + 16, b0, accumulate); storeSum(dwRow + fb + 16, b1, accumulate); storeSum(dwRow + 2 * fb + 16, b2, accumulate); storeSum(dwRow + 3 * fb + 16, b3, accumulate);
  }
}

// cells1 over the listed pixels only: even columns into one pair of sums and odd into the other,
// as cells1 splits them.
function cells1Listed(xCell: usize, dyf: usize, dwRow: usize, list: usize, count: i32, two: bool, accumulate: bool): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
  const end = list + (<usize>count << 3);
  for (let e = list; e < end; e += 8) {
    const xo = load<u32>(e);
    const x = v128.load32_splat(xCell + <usize>(xo & ~1)), q = dyf + <usize>load<u32>(e, 4);
    if (xo & 1) {
      a1 = madd(x, v128.load(q), a1);
      if (two) b1 = madd(x, v128.load(q, 16), b1);
    } else {
      a0 = madd(x, v128.load(q), a0);
      if (two) b0 = madd(x, v128.load(q, 16), b0);
    }
  }
  storeSum(dwRow, f32x4.add(a0, a1), accumulate);
  if (two) storeSum(dwRow + 16, f32x4.add(b0, b1), accumulate);
}

// Cells t..t+3 of window row kh (contiguous in xp), filters f..f+7 (f..f+3 unless `two`).
function cells4(
  xp: usize, dy: usize, dw: usize, n: i32, HP: i32, WP: i32, C: i32, KW: i32, F: i32,
  stride: i32, OH: i32, OW: i32, kh: i32, t: i32, f: i32, two: bool, accumulate: bool,
): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  const pixelStep = (<usize>stride * C) << 2, fb = <usize>F << 2;
  for (let oh = 0; oh < OH; oh++) {
    let p = xp + ((<usize>((n * HP + oh * stride + kh) * WP) * C + t) << 2);
    let q = dy + ((<usize>((n * OH + oh) * OW) * F + f) << 2);
    for (let ow = 0; ow < OW; ow++) {
      const d = v128.load(q), e = two ? v128.load(q, 16) : zero;
      const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p, 4), x2 = v128.load32_splat(p, 8), x3 = v128.load32_splat(p, 12);
      a0 = madd(x0, d, a0); a1 = madd(x1, d, a1); a2 = madd(x2, d, a2); a3 = madd(x3, d, a3);
      if (two) { b0 = madd(x0, e, b0); b1 = madd(x1, e, b1); b2 = madd(x2, e, b2); b3 = madd(x3, e, b3); }
      p += pixelStep;
      q += fb;
    }
  }
  // Cell t + j is dw row (kh * KW * C + t + j).
  const o = dw + ((<usize>(kh * KW * C + t) * F + f) << 2);
  storeSum(o, a0, accumulate); storeSum(o + fb, a1, accumulate); storeSum(o + 2 * fb, a2, accumulate); storeSum(o + 3 * fb, a3, accumulate);
  if (two) {
    storeSum(o + 16, b0, accumulate); storeSum(o + fb + 16, b1, accumulate); storeSum(o + 2 * fb + 16, b2, accumulate); storeSum(o + 3 * fb + 16, b3, accumulate);
  }
}

// Cell t of window row kh, filters f..f+7 (f..f+3 unless `two`), two pixels at a time (the
// cells left over after the groups of four).
function cells1(
  xp: usize, dy: usize, dw: usize, n: i32, HP: i32, WP: i32, C: i32, KW: i32, F: i32,
  stride: i32, OH: i32, OW: i32, kh: i32, t: i32, f: i32, two: bool, accumulate: bool,
): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
  const pixelStep = (<usize>stride * C) << 2, fb = <usize>F << 2;
  for (let oh = 0; oh < OH; oh++) {
    let p = xp + ((<usize>((n * HP + oh * stride + kh) * WP) * C + t) << 2);
    let q = dy + ((<usize>((n * OH + oh) * OW) * F + f) << 2);
    let ow = 0;
    for (; ow + 2 <= OW; ow += 2) {
      const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p + pixelStep);
      a0 = madd(x0, v128.load(q), a0);
      a1 = madd(x1, v128.load(q + fb), a1);
      if (two) { b0 = madd(x0, v128.load(q, 16), b0); b1 = madd(x1, v128.load(q + fb, 16), b1); }
      p += 2 * pixelStep;
      q += 2 * fb;
    }
    if (ow < OW) {
      const x0 = v128.load32_splat(p);
      a0 = madd(x0, v128.load(q), a0);
      if (two) b0 = madd(x0, v128.load(q, 16), b0);
    }
  }
  const o = dw + ((<usize>(kh * KW * C + t) * F + f) << 2);
  storeSum(o, f32x4.add(a0, a1), accumulate);
  if (two) storeSum(o + 16, f32x4.add(b0, b1), accumulate);
}

@inline function storeSum(o: usize, v: v128, accumulate: bool): void {
  v128.store(o, accumulate ? f32x4.add(v128.load(o), v) : v);
}
