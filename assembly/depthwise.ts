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
function depthwisePass(
  pass: i32, x: usize, w: usize, b: usize, cells: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  count: i32,
): void {
  const pixelBytes = <usize>C << 2, tapStep = <usize>(dilation * C) << 2, rowStep = <usize>(dilation * W) * pixelBytes;
  const kernelRowStep = <usize>KW * pixelBytes;
  let cell = cells;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * stride - padT;
      const i0 = firstTap(top, dilation), rows = endTap(top, dilation, KH, H) - i0;
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * stride - padL;
        const j0 = firstTap(left, dilation), taps = endTap(left, dilation, KW, W) - j0;
        // The window's first cell inside the image, and its tap's weights.
        const corner = x + (<usize>(((n * H + top + i0 * dilation) * W) + left + j0 * dilation) * pixelBytes);
        const firstWeight = w + <usize>(i0 * KW + j0) * pixelBytes;
        if (pass == FORWARD) forwardCell(corner, firstWeight, b, cell, count, pixelBytes, rows, taps, rowStep, tapStep, kernelRowStep);
        else if (pass == BACKWARD_INPUT) scatterCell(corner, tapStep, rowStep, firstWeight, pixelBytes, kernelRowStep, 0, cell, count, rows, taps);
        else scatterCell(firstWeight, pixelBytes, kernelRowStep, corner, tapStep, rowStep, b, cell, count, rows, taps);
        cell += pixelBytes;
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

// dx = ∂L/∂x from dy [N,OH,OW,C]: every output cell's gradient scattered back through its taps.
export function depthwise_conv2d_backward_input(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): void {
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
