// Depthwise convolution on NHWC tensors, one filter per channel:
// x [N,H,W,C], w [KH,KW,C] -> y [N,OH,OW,C], y[n,oh,ow,c] = b[c] + Σ_ij x[n, oh*s-padT+i*d, ow*s-padL+j*d, c] · w[i,j,c].
//
// Keras's depth multiplier M > 1 (w [KH,KW,C,M], output channel c*M+m) is the same op on the
// input with each channel repeated M times (repeat_channels), whose input gradient is summed
// back over each group (sum_channel_groups): the layer does that, so these kernels stay M = 1.
// Channels run four at a time (a channel count that is not a multiple of 4 finishes with scalar
// code); padding is explicit (top/left), taps that fall outside the image are skipped.

import { madd } from "./simd";
import { zero } from "./elementwise";

// The first tap i >= 0 of a window starting at `start` (possibly negative) that is inside the image.
@inline function firstTap(start: i32, dilation: i32): i32 {
  return start >= 0 ? 0 : (dilation - 1 - start) / dilation;
}

// One past the last tap (at most K) of a window starting at `start` inside an image of `size`.
@inline function endTap(start: i32, dilation: i32, K: i32, size: i32): i32 {
  return start >= size ? 0 : min(K, (size - start + dilation - 1) / dilation);
}

const FORWARD = 0, BACKWARD_INPUT = 1, BACKWARD_KERNEL = 2;

// The one loop of the three passes: every output cell, and the window's taps that fall inside
// the image. `x` is the input (forward, kernel gradient) or its gradient (input gradient), `w` the
// kernel or its gradient, `cells` the output or its gradient, `b` the bias or its gradient; of
// the C channels, `count` from where the pointers start (all C but when threads split the channels).
// The weights' taps are `weightTap` bytes apart along a kernel row and `weightRow` between rows
// (pixelBytes and KW x pixelBytes; the input gradient walks the kernel backwards with negative steps).
function depthwisePass(
  pass: i32, x: usize, w: usize, b: usize, cells: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  count: i32, weightTap: isize = 0, weightRow: isize = 0,
): void {
  const pixelBytes = <usize>C << 2, tapStep = <usize>(dilation * C) << 2, rowStep = <usize>(dilation * W) * pixelBytes;
  const wTap = weightTap != 0 ? <usize>weightTap : pixelBytes, kernelRowStep = weightRow != 0 ? <usize>weightRow : <usize>KW * pixelBytes;
  // A 3x3 forward pass keeps each channel group's nine weights in registers across a strip of
  // output cells whose windows lie inside the image, the kernel gradient its nine sums; the other
  // cells take the general loop.
  const fast3x3 = pass != BACKWARD_INPUT && KH == 3 && KW == 3 && dilation == 1;
  const insideFrom = fast3x3 ? min(OW, max(0, (padL + stride - 1) / stride)) : OW;
  const insideTo = fast3x3 && W - 3 + padL >= 0 ? max(insideFrom, min(OW, (W - 3 + padL) / stride + 1)) : insideFrom;
  let cell = cells;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * stride - padT;
      const i0 = firstTap(top, dilation), rows = endTap(top, dilation, KH, H) - i0;
      const inside = fast3x3 && rows == 3 && insideTo > insideFrom;
      if (inside) {
        const firstCell = x + (<usize>(((n * H + top) * W) + insideFrom * stride - padL) * pixelBytes);
        const firstOut = cell + <usize>insideFrom * pixelBytes, cellStep = <usize>stride * pixelBytes;
        if (pass == FORWARD) forward3x3Strip(firstCell, w, wTap, kernelRowStep, b, firstOut, count, pixelBytes, cellStep, rowStep, insideTo - insideFrom);
        else kernelGradient3x3Strip(firstCell, firstOut, w, b, count, pixelBytes, cellStep, rowStep, insideTo - insideFrom);
      }
      for (let ow = 0; ow < OW; ow++) {
        if (inside && ow == insideFrom) {
          ow = insideTo - 1;
          cell += <usize>(insideTo - insideFrom) * pixelBytes;
          continue;
        }
        const left = ow * stride - padL;
        const j0 = firstTap(left, dilation), taps = endTap(left, dilation, KW, W) - j0;
        // The window's first cell inside the image, and its tap's weights.
        const corner = x + (<usize>(((n * H + top + i0 * dilation) * W) + left + j0 * dilation) * pixelBytes);
        const firstWeight = w + <usize>i0 * kernelRowStep + <usize>j0 * wTap;
        if (pass == FORWARD) forwardCell(corner, firstWeight, b, cell, count, wTap, rows, taps, rowStep, tapStep, kernelRowStep);
        else if (pass == BACKWARD_INPUT) scatterCell(corner, tapStep, rowStep, firstWeight, pixelBytes, kernelRowStep, 0, cell, count, rows, taps);
        else scatterCell(firstWeight, pixelBytes, kernelRowStep, corner, tapStep, rowStep, b, cell, count, rows, taps);
        cell += pixelBytes;
      }
    }
  }
}

// Cells per strip. Measured on the Zen 4 over MobileNetV2's depthwise shapes at 96x96 (one
// thread): 8 cells 0.35 ms at batch 1 and 19.4 at batch 32, 32 cells 0.32 and 16.8, the general
// loop 0.54 and 17.0. At batch 32 the pass waits on memory whatever the loop; in cache (one
// image, serving) holding the weights in registers makes it 1.7 times as fast.
const STRIP = 32;

// `cells` adjacent output cells of one row whose 3x3 windows lie inside the image: y = b + Σ x · w
// in forwardCell's order (so the same bits), each group of four channels with its nine weights
// held in registers for a strip of cells. `px0` is the first cell's window corner, `cellStep` the
// window's step between cells (stride x pixel), `rowStep` between image rows.
function forward3x3Strip(px0: usize, w: usize, wTap: usize, tapRow: usize, b: usize, y0: usize, C: i32, pixelBytes: usize, cellStep: usize, rowStep: usize, cells: i32): void {
  const C4 = C & ~3;
  for (let s = 0; s < cells; s += STRIP) {
    const end = min(cells, s + STRIP);
    for (let c = 0; c < C4; c += 4) {
      const cb = <usize>c << 2;
      const wp = w + cb;
      const w00 = v128.load(wp), w01 = v128.load(wp + wTap), w02 = v128.load(wp + 2 * wTap);
      const w10 = v128.load(wp + tapRow), w11 = v128.load(wp + tapRow + wTap), w12 = v128.load(wp + tapRow + 2 * wTap);
      const w20 = v128.load(wp + 2 * tapRow), w21 = v128.load(wp + 2 * tapRow + wTap), w22 = v128.load(wp + 2 * tapRow + 2 * wTap);
      const bias = b ? v128.load(b + cb) : f32x4.splat(0);
      let px = px0 + <usize>s * cellStep + cb, out = y0 + <usize>s * pixelBytes + cb;
      for (let k = s; k < end; k++) {
        const r1 = px + rowStep, r2 = r1 + rowStep;
        let a = madd(v128.load(px), w00, bias);
        a = madd(v128.load(px + pixelBytes), w01, a);
        a = madd(v128.load(px + 2 * pixelBytes), w02, a);
        a = madd(v128.load(r1), w10, a);
        a = madd(v128.load(r1 + pixelBytes), w11, a);
        a = madd(v128.load(r1 + 2 * pixelBytes), w12, a);
        a = madd(v128.load(r2), w20, a);
        a = madd(v128.load(r2 + pixelBytes), w21, a);
        a = madd(v128.load(r2 + 2 * pixelBytes), w22, a);
        v128.store(out, a);
        px += cellStep;
        out += pixelBytes;
      }
    }
    for (let c = C4; c < C; c++) {
      const cb = <usize>c << 2;
      let px = px0 + <usize>s * cellStep + cb, out = y0 + <usize>s * pixelBytes + cb;
      for (let k = s; k < end; k++) {
        let a: f32 = b ? load<f32>(b + cb) : 0;
        let row = px, wrow = w + cb;
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) a += load<f32>(row + <usize>j * pixelBytes) * load<f32>(wrow + <usize>j * wTap);
          row += rowStep;
          wrow += tapRow;
        }
        store<f32>(out, a);
        px += cellStep;
        out += pixelBytes;
      }
    }
  }
}

// The kernel gradient over `cells` adjacent output cells of one row whose 3x3 windows lie inside
// the image: dw [3,3,C] += Σ cells dy · x at each tap, db [C] += Σ dy (db = 0: none), each
// channel group's nine sums held in registers over a strip, then added once. `px0` is the first
// cell's window corner in x, `dy0` its gradient.
function kernelGradient3x3Strip(px0: usize, dy0: usize, dw: usize, db: usize, C: i32, pixelBytes: usize, cellStep: usize, rowStep: usize, cells: i32): void {
  const C4 = C & ~3, tapRow = pixelBytes * 3;
  for (let s = 0; s < cells; s += STRIP) {
    const end = min(cells, s + STRIP);
    for (let c = 0; c < C4; c += 4) {
      const cb = <usize>c << 2;
      let g00 = f32x4.splat(0), g01 = g00, g02 = g00, g10 = g00, g11 = g00, g12 = g00, g20 = g00, g21 = g00, g22 = g00, gb = g00;
      let px = px0 + <usize>s * cellStep + cb, d = dy0 + <usize>s * pixelBytes + cb;
      for (let k = s; k < end; k++) {
        const g = v128.load(d);
        const r1 = px + rowStep, r2 = r1 + rowStep;
        g00 = madd(g, v128.load(px), g00);
        g01 = madd(g, v128.load(px + pixelBytes), g01);
        g02 = madd(g, v128.load(px + 2 * pixelBytes), g02);
        g10 = madd(g, v128.load(r1), g10);
        g11 = madd(g, v128.load(r1 + pixelBytes), g11);
        g12 = madd(g, v128.load(r1 + 2 * pixelBytes), g12);
        g20 = madd(g, v128.load(r2), g20);
        g21 = madd(g, v128.load(r2 + pixelBytes), g21);
        g22 = madd(g, v128.load(r2 + 2 * pixelBytes), g22);
        gb = f32x4.add(gb, g);
        px += cellStep;
        d += pixelBytes;
      }
      const wp = dw + cb;
      v128.store(wp, f32x4.add(v128.load(wp), g00));
      v128.store(wp + pixelBytes, f32x4.add(v128.load(wp + pixelBytes), g01));
      v128.store(wp + 2 * pixelBytes, f32x4.add(v128.load(wp + 2 * pixelBytes), g02));
      v128.store(wp + tapRow, f32x4.add(v128.load(wp + tapRow), g10));
      v128.store(wp + tapRow + pixelBytes, f32x4.add(v128.load(wp + tapRow + pixelBytes), g11));
      v128.store(wp + tapRow + 2 * pixelBytes, f32x4.add(v128.load(wp + tapRow + 2 * pixelBytes), g12));
      v128.store(wp + 2 * tapRow, f32x4.add(v128.load(wp + 2 * tapRow), g20));
      v128.store(wp + 2 * tapRow + pixelBytes, f32x4.add(v128.load(wp + 2 * tapRow + pixelBytes), g21));
      v128.store(wp + 2 * tapRow + 2 * pixelBytes, f32x4.add(v128.load(wp + 2 * tapRow + 2 * pixelBytes), g22));
      if (db) v128.store(db + cb, f32x4.add(v128.load(db + cb), gb));
    }
    for (let c = C4; c < C; c++) {
      const cb = <usize>c << 2;
      let px = px0 + <usize>s * cellStep + cb, d = dy0 + <usize>s * pixelBytes + cb;
      for (let k = s; k < end; k++) {
        const g = load<f32>(d);
        if (db) store<f32>(db + cb, load<f32>(db + cb) + g);
        let row = px, wrow = dw + cb;
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) {
            const t = wrow + <usize>j * pixelBytes;
            store<f32>(t, load<f32>(t) + g * load<f32>(row + <usize>j * pixelBytes));
          }
          row += rowStep;
          wrow += tapRow;
        }
        px += cellStep;
        d += pixelBytes;
      }
    }
  }
}

// y[cell] = b + Σ taps x · w over C channels, eight and four at a time; a kernel tap's weights
// are wTapStep bytes apart.
@inline function forwardCell(px0: usize, w0: usize, b: usize, y: usize, C: i32, wTapStep: usize, rows: i32, taps: i32, rowStep: usize, tapStep: usize, kernelRowStep: usize): void {
  let c = 0;
  for (; c + 8 <= C; c += 8) {
    const cb = <usize>c << 2;
    let a0 = b ? v128.load(b + cb) : f32x4.splat(0), a1 = b ? v128.load(b + cb, 16) : f32x4.splat(0);
    let row = px0 + cb, wrow = w0 + cb;
    for (let i = 0; i < rows; i++) {
      let px = row, wp = wrow;
      for (let j = 0; j < taps; j++) {
        a0 = madd(v128.load(px), v128.load(wp), a0);
        a1 = madd(v128.load(px, 16), v128.load(wp, 16), a1);
        px += tapStep;
        wp += wTapStep;
      }
      row += rowStep;
      wrow += kernelRowStep;
    }
    v128.store(y + cb, a0);
    v128.store(y + cb, a1, 16);
  }
  for (; c + 4 <= C; c += 4) {
    const cb = <usize>c << 2;
    let a0 = b ? v128.load(b + cb) : f32x4.splat(0);
    let row = px0 + cb, wrow = w0 + cb;
    for (let i = 0; i < rows; i++) {
      let px = row, wp = wrow;
      for (let j = 0; j < taps; j++) {
        a0 = madd(v128.load(px), v128.load(wp), a0);
        px += tapStep;
        wp += wTapStep;
      }
      row += rowStep;
      wrow += kernelRowStep;
    }
    v128.store(y + cb, a0);
  }
  for (; c < C; c++) {
    const cb = <usize>c << 2;
    let a: f32 = b ? load<f32>(b + cb) : 0;
    let row = px0 + cb, wrow = w0 + cb;
    for (let i = 0; i < rows; i++) {
      let px = row, wp = wrow;
      for (let j = 0; j < taps; j++) {
        a += load<f32>(px) * load<f32>(wp);
        px += tapStep;
        wp += wTapStep;
      }
      row += rowStep;
      wrow += kernelRowStep;
    }
    store<f32>(y + cb, a);
  }
}

// The backward passes: target[taps] += dy[cell] · source[taps] over the window, and db += dy[cell]
// (db = 0: none). The input gradient scatters into dx with the weights as source; the kernel
// gradient into dw with the input as source: the same loop with the two walks swapped.
@inline function scatterCell(
  target: usize, targetTapStep: usize, targetRowStep: usize, source: usize, sourceTapStep: usize, sourceRowStep: usize,
  db: usize, dy: usize, C: i32, rows: i32, taps: i32,
): void {
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const cb = <usize>c << 2;
    const d = v128.load(dy + cb);
    if (db) v128.store(db + cb, f32x4.add(v128.load(db + cb), d));
    let trow = target + cb, srow = source + cb;
    for (let i = 0; i < rows; i++) {
      let t = trow, src = srow;
      for (let j = 0; j < taps; j++) {
        v128.store(t, madd(d, v128.load(src), v128.load(t)));
        t += targetTapStep;
        src += sourceTapStep;
      }
      trow += targetRowStep;
      srow += sourceRowStep;
    }
  }
  for (; c < C; c++) {
    const cb = <usize>c << 2;
    const d = load<f32>(dy + cb);
    if (db) store<f32>(db + cb, load<f32>(db + cb) + d);
    let trow = target + cb, srow = source + cb;
    for (let i = 0; i < rows; i++) {
      let t = trow, src = srow;
      for (let j = 0; j < taps; j++) {
        store<f32>(t, load<f32>(t) + d * load<f32>(src));
        t += targetTapStep;
        src += sourceTapStep;
      }
      trow += targetRowStep;
      srow += sourceRowStep;
    }
  }
}

// y = depthwise(x, w) + b   (b = 0: no bias)
export function depthwise_conv2d_forward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): void {
  depthwisePass(FORWARD, x, w, b, y, N, H, W, C, KH, KW, stride, dilation, padT, padL, OH, OW, C);
}

// y [.., c0..c1) = depthwise(x, w) + b (b = 0: no bias) for channels c0 to c1 of C: one thread's
// share when threads split one image's channels (the other channels untouched).
export function depthwise_conv2d_forward_channels(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  c0: i32, c1: i32,
): void {
  assert(0 <= c0 && c0 <= c1 && c1 <= C);
  const skip = <usize>c0 << 2;
  depthwisePass(FORWARD, x + skip, w + skip, b ? b + skip : 0, y + skip, N, H, W, C, KH, KW, stride, dilation, padT, padL, OH, OW, c1 - c0);
}

// dx = ∂L/∂x from dy [N,OH,OW,C]. With stride 1 each dx cell gathers its gradient as a forward
// pass does: dx = depthwise(dy, w turned 180 degrees) over dy padded by dilation x (K - 1) - pad,
// each cell written once. With stride 2 every dy cell is scattered back through its taps.
export function depthwise_conv2d_backward_input(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): void {
  if (stride == 1) {
    const pixelBytes = <isize>C << 2;
    const lastTap = w + <usize>((KH * KW - 1) * C) * 4;
    depthwisePass(FORWARD, dy, lastTap, 0, dx, N, OH, OW, C, KH, KW, 1, dilation, dilation * (KH - 1) - padT, dilation * (KW - 1) - padL, H, W, C,
      -pixelBytes, -pixelBytes * KW);
    return;
  }
  zero(dx, N * H * W * C);
  depthwisePass(BACKWARD_INPUT, dx, w, 0, dy, N, H, W, C, KH, KW, stride, dilation, padT, padL, OH, OW, C);
}

// dw [KH,KW,C] = ∂L/∂w and db [C] = ∂L/∂b (db = 0: no bias); added to what is there if `accumulate`.
export function depthwise_conv2d_backward_kernel(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  accumulate: bool,
): void {
  if (!accumulate) {
    zero(dw, KH * KW * C);
    if (db) zero(db, C);
  }
  depthwisePass(BACKWARD_KERNEL, x, dw, db, dy, N, H, W, C, KH, KW, stride, dilation, padT, padL, OH, OW, C);
}

// y [rows, C*M] = each channel of x [rows, C] repeated M times: y[r, c*M+m] = x[r, c].
export function repeat_channels(x: usize, y: usize, rows: i32, C: i32, M: i32): void {
  let o = y, i = x;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      const v = load<f32>(i);
      for (let m = 0; m < M; m++) {
        store<f32>(o, v);
        o += 4;
      }
      i += 4;
    }
  }
}

// y [rows, C] = x [rows, C*M] summed over each group of M channels: y[r, c] = Σ_m x[r, c*M+m].
export function sum_channel_groups(x: usize, y: usize, rows: i32, C: i32, M: i32): void {
  let o = y, i = x;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      let s: f32 = 0;
      for (let m = 0; m < M; m++) {
        s += load<f32>(i);
        i += 4;
      }
      store<f32>(o, s);
      o += 4;
    }
  }
}
