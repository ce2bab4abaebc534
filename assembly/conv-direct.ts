// Direct convolution for few input channels (a network's first layer: C = 3), in Keras layouts:
// x [N,H,W,C], w [KH,KW,C,F], y [N,OH,OW,F]. The im2col matrix of such a layer is KH*KW times
// the image and feeds a GEMM only F wide; here each output pixel is computed straight from the
// image instead: four pixels by eight filters in registers, the kernel row read once for the four.
//
// A padded window reads a zero-padded copy of x, xp [N, HP, WP, C] with HP = (OH-1)*stride + KH
// and WP = (OW-1)*stride + KW, made in `scratch` (directScratchBytes in src/kernels/conv-algorithm.ts);
// an unpadded one reads x. F must be a multiple of 4.

import { madd } from "./simd";
import { col_sum } from "./elementwise";

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
// (b = 0: no bias); `accumulate` adds instead of writing; scratch: the padded copy's floats.
// One window row kh, four filters and up to eight cells of the row (kw, c) at a time, summed in
// registers over the output pixels of one image: its dy is read about KH * F/4 * KW*C / 8 times.
export function conv2d_direct_backward_kernel(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, accumulate: bool, scratch: usize,
): void {
  assert(F % 4 == 0);
  const copy = pads(H, W, KH, KW, stride, padT, padL, OH, OW);
  const HP = copy ? (OH - 1) * stride + KH : H, WP = copy ? (OW - 1) * stride + KW : W;
  const xp = padded(x, N, H, W, C, HP, WP, padT, padL, scratch);
  const cells = KW * C;
  // Image by image, so that the many passes over one image's dy and x hit the cache.
  for (let n = 0; n < N; n++) {
    const add = accumulate || n > 0;
    for (let kh = 0; kh < KH; kh++) {
      for (let f = 0; f < F; f += 4) {
        let t = 0;
        for (; t + 8 <= cells; t += 8) cells8(xp, dy, dw, n, HP, WP, C, KW, F, stride, OH, OW, kh, t, f, add);
        for (; t + 4 <= cells; t += 4) cells4(xp, dy, dw, n, HP, WP, C, KW, F, stride, OH, OW, kh, t, f, add);
        for (; t < cells; t++) cells1(xp, dy, dw, n, HP, WP, C, KW, F, stride, OH, OW, kh, t, f, add);
      }
    }
  }
  if (db != 0) col_sum(dy, N * OH * OW, F, db, accumulate);
}

// Cells t..t+7 of window row kh (contiguous in xp), filters f..f+3.
function cells8(
  xp: usize, dy: usize, dw: usize, n: i32, HP: i32, WP: i32, C: i32, KW: i32, F: i32,
  stride: i32, OH: i32, OW: i32, kh: i32, t: i32, f: i32, accumulate: bool,
): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const pixelStep = (<usize>stride * C) << 2, fb = <usize>F << 2;
  for (let oh = 0; oh < OH; oh++) {
    let p = xp + ((<usize>((n * HP + oh * stride + kh) * WP) * C + t) << 2);
    let q = dy + ((<usize>((n * OH + oh) * OW) * F + f) << 2);
    for (let ow = 0; ow < OW; ow++) {
      const d = v128.load(q);
      a0 = madd(v128.load32_splat(p), d, a0);
      a1 = madd(v128.load32_splat(p, 4), d, a1);
      a2 = madd(v128.load32_splat(p, 8), d, a2);
      a3 = madd(v128.load32_splat(p, 12), d, a3);
      a4 = madd(v128.load32_splat(p, 16), d, a4);
      a5 = madd(v128.load32_splat(p, 20), d, a5);
      a6 = madd(v128.load32_splat(p, 24), d, a6);
      a7 = madd(v128.load32_splat(p, 28), d, a7);
      p += pixelStep;
      q += fb;
    }
  }
  // Cell t + j is dw row (kh * KW * C + t + j).
  const o = dw + ((<usize>(kh * KW * C + t) * F + f) << 2);
  storeSum(o, a0, accumulate); storeSum(o + fb, a1, accumulate); storeSum(o + 2 * fb, a2, accumulate); storeSum(o + 3 * fb, a3, accumulate);
  storeSum(o + 4 * fb, a4, accumulate); storeSum(o + 5 * fb, a5, accumulate); storeSum(o + 6 * fb, a6, accumulate); storeSum(o + 7 * fb, a7, accumulate);
}

// Cells t..t+3 of window row kh, filters f..f+3, two pixels at a time.
function cells4(
  xp: usize, dy: usize, dw: usize, n: i32, HP: i32, WP: i32, C: i32, KW: i32, F: i32,
  stride: i32, OH: i32, OW: i32, kh: i32, t: i32, f: i32, accumulate: bool,
): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const pixelStep = (<usize>stride * C) << 2, fb = <usize>F << 2;
  for (let oh = 0; oh < OH; oh++) {
    let p = xp + ((<usize>((n * HP + oh * stride + kh) * WP) * C + t) << 2);
    let q = dy + ((<usize>((n * OH + oh) * OW) * F + f) << 2);
    let ow = 0;
    for (; ow + 2 <= OW; ow += 2) {
      const d = v128.load(q), e = v128.load(q + fb), p1 = p + pixelStep;
      a0 = madd(v128.load32_splat(p), d, a0);
      a1 = madd(v128.load32_splat(p, 4), d, a1);
      a2 = madd(v128.load32_splat(p, 8), d, a2);
      a3 = madd(v128.load32_splat(p, 12), d, a3);
      b0 = madd(v128.load32_splat(p1), e, b0);
      b1 = madd(v128.load32_splat(p1, 4), e, b1);
      b2 = madd(v128.load32_splat(p1, 8), e, b2);
      b3 = madd(v128.load32_splat(p1, 12), e, b3);
      p += 2 * pixelStep;
      q += 2 * fb;
    }
    if (ow < OW) {
      const d = v128.load(q);
      a0 = madd(v128.load32_splat(p), d, a0);
      a1 = madd(v128.load32_splat(p, 4), d, a1);
      a2 = madd(v128.load32_splat(p, 8), d, a2);
      a3 = madd(v128.load32_splat(p, 12), d, a3);
    }
  }
  const o = dw + ((<usize>(kh * KW * C + t) * F + f) << 2);
  storeSum(o, f32x4.add(a0, b0), accumulate); storeSum(o + fb, f32x4.add(a1, b1), accumulate);
  storeSum(o + 2 * fb, f32x4.add(a2, b2), accumulate); storeSum(o + 3 * fb, f32x4.add(a3, b3), accumulate);
}

// Cell t of window row kh, filters f..f+3 (the cells left over after the groups of eight and four).
function cells1(
  xp: usize, dy: usize, dw: usize, n: i32, HP: i32, WP: i32, C: i32, KW: i32, F: i32,
  stride: i32, OH: i32, OW: i32, kh: i32, t: i32, f: i32, accumulate: bool,
): void {
  let a0 = f32x4.splat(0), a1 = a0;
  const pixelStep = (<usize>stride * C) << 2, fb = <usize>F << 2;
  for (let oh = 0; oh < OH; oh++) {
    let p = xp + ((<usize>((n * HP + oh * stride + kh) * WP) * C + t) << 2);
    let q = dy + ((<usize>((n * OH + oh) * OW) * F + f) << 2);
    let ow = 0;
    for (; ow + 2 <= OW; ow += 2) {
      a0 = madd(v128.load32_splat(p), v128.load(q), a0);
      a1 = madd(v128.load32_splat(p + pixelStep), v128.load(q + fb), a1);
      p += 2 * pixelStep;
      q += 2 * fb;
    }
    if (ow < OW) a0 = madd(v128.load32_splat(p), v128.load(q), a0);
  }
  storeSum(dw + ((<usize>(kh * KW * C + t) * F + f) << 2), f32x4.add(a0, a1), accumulate);
}

@inline function storeSum(o: usize, v: v128, accumulate: bool): void {
  v128.store(o, accumulate ? f32x4.add(v128.load(o), v) : v);
}
