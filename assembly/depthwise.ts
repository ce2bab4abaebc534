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

// y = depthwise(x, w) + b   (b = 0: no bias)
export function depthwise_conv2d_forward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): void {
  const pixelBytes = <usize>C << 2, tapStep = <usize>(dilation * C) << 2;
  let out = y;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * stride - padT;
      const i0 = firstTap(top, dilation), i1 = endTap(top, dilation, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * stride - padL;
        const j0 = firstTap(left, dilation), j1 = endTap(left, dilation, KW, W);
        // The window's first real cell, and its tap's weights.
        const corner = x + (<usize>(((n * H + top + i0 * dilation) * W) + left + j0 * dilation) * pixelBytes);
        const rowStep = <usize>(dilation * W) * pixelBytes;
        let c = 0;
        for (; c + 8 <= C; c += 8) {
          const cb = <usize>c << 2;
          let a0 = b ? v128.load(b + cb) : f32x4.splat(0), a1 = b ? v128.load(b + cb, 16) : f32x4.splat(0);
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = w + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              a0 = madd(v128.load(px), v128.load(wp), a0);
              a1 = madd(v128.load(px, 16), v128.load(wp, 16), a1);
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
          v128.store(out + cb, a0);
          v128.store(out + cb, a1, 16);
        }
        for (; c + 4 <= C; c += 4) {
          const cb = <usize>c << 2;
          let a0 = b ? v128.load(b + cb) : f32x4.splat(0);
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = w + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              a0 = madd(v128.load(px), v128.load(wp), a0);
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
          v128.store(out + cb, a0);
        }
        for (; c < C; c++) {
          const cb = <usize>c << 2;
          let a: f32 = b ? load<f32>(b + cb) : 0;
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = w + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              a += load<f32>(px) * load<f32>(wp);
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
          store<f32>(out + cb, a);
        }
        out += pixelBytes;
      }
    }
  }
}

// dx = ∂L/∂x from dy [N,OH,OW,C]: every output cell's gradient scattered back through its taps.
export function depthwise_conv2d_backward_input(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, dilation: i32, padT: i32, padL: i32, OH: i32, OW: i32,
): void {
  zero(dx, N * H * W * C);
  const pixelBytes = <usize>C << 2, tapStep = <usize>(dilation * C) << 2;
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * stride - padT;
      const i0 = firstTap(top, dilation), i1 = endTap(top, dilation, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * stride - padL;
        const j0 = firstTap(left, dilation), j1 = endTap(left, dilation, KW, W);
        const corner = dx + (<usize>(((n * H + top + i0 * dilation) * W) + left + j0 * dilation) * pixelBytes);
        const rowStep = <usize>(dilation * W) * pixelBytes;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const cb = <usize>c << 2;
          const d = v128.load(g + cb);
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = w + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              v128.store(px, madd(d, v128.load(wp), v128.load(px)));
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
        }
        for (; c < C; c++) {
          const cb = <usize>c << 2;
          const d = load<f32>(g + cb);
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = w + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              store<f32>(px, load<f32>(px) + d * load<f32>(wp));
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
        }
        g += pixelBytes;
      }
    }
  }
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
  const pixelBytes = <usize>C << 2, tapStep = <usize>(dilation * C) << 2;
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * stride - padT;
      const i0 = firstTap(top, dilation), i1 = endTap(top, dilation, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * stride - padL;
        const j0 = firstTap(left, dilation), j1 = endTap(left, dilation, KW, W);
        const corner = x + (<usize>(((n * H + top + i0 * dilation) * W) + left + j0 * dilation) * pixelBytes);
        const rowStep = <usize>(dilation * W) * pixelBytes;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const cb = <usize>c << 2;
          const d = v128.load(g + cb);
          if (db) v128.store(db + cb, f32x4.add(v128.load(db + cb), d));
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = dw + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              v128.store(wp, madd(d, v128.load(px), v128.load(wp)));
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
        }
        for (; c < C; c++) {
          const cb = <usize>c << 2;
          const d = load<f32>(g + cb);
          if (db) store<f32>(db + cb, load<f32>(db + cb) + d);
          let row = corner + cb;
          for (let i = i0; i < i1; i++) {
            let px = row, wp = dw + ((<usize>(i * KW + j0) * pixelBytes)) + cb;
            for (let j = j0; j < j1; j++) {
              store<f32>(wp, load<f32>(wp) + d * load<f32>(px));
              px += tapStep;
              wp += pixelBytes;
            }
            row += rowStep;
          }
        }
        g += pixelBytes;
      }
    }
  }
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
