// 2-D convolution in Keras layouts: x [N,H,W,C], kernel [KH,KW,C,F], y [N,OH,OW,F].
//
// Padding is given as explicit top/left amounts (the caller turns `same`/`valid` into numbers;
// the bottom/right padding is whatever OH/OW imply, so TensorFlow's odd `same` padding works).
// A convolution is a GEMM over the im2col matrix cols [N*OH*OW, KH*KW*C]; for a 1x1 stride-1
// unpadded convolution x is already that matrix, and the caller passes cols = 0 (the layer
// decides, since it sizes the scratch; the debug build checks the geometry).

import { sgemm } from "./gemm";
import { add_to, col_sum, bias_add } from "./elementwise";

@inline function checkPointwise(cols: usize, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32): void {
  if (cols == 0) assert(KH == 1 && KW == 1 && stride == 1 && padT == 0 && padL == 0);
}

// x [N,H,W,C] -> cols [N*OH*OW, KH*KW*C]; window cells in the padding read as zero.
export function im2col(
  x: usize, N: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, cols: usize,
): void {
  const cBytes = <usize>C << 2;
  let d = cols;
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * H * W * C) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * stride - padL;
        // The run of kw that lands inside the image is contiguous in x.
        const kwLo = max(0, -iw0);
        const kwHi = min(KW, W - iw0);
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * stride - padT + kh;
          if (ih < 0 || ih >= H || kwLo >= kwHi) {
            memory.fill(d, 0, <usize>KW * cBytes);
          } else {
            if (kwLo > 0) memory.fill(d, 0, <usize>kwLo * cBytes);
            const src = xn + ((<usize>(ih * W + iw0 + kwLo) * C) << 2);
            memory.copy(d + <usize>kwLo * cBytes, src, <usize>(kwHi - kwLo) * cBytes);
            if (kwHi < KW) memory.fill(d + <usize>kwHi * cBytes, 0, <usize>(KW - kwHi) * cBytes);
          }
          d += <usize>KW * cBytes;
        }
      }
    }
  }
}

// dx [N,H,W,C] = sum of cols [N*OH*OW, KH*KW*C] scattered back to the cells they were read from.
export function col2im(
  cols: usize, N: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, dx: usize,
): void {
  memory.fill(dx, 0, (<usize>N * H * W * C) << 2);
  const cBytes = <usize>C << 2;
  let s = cols;
  for (let n = 0; n < N; n++) {
    const dxn = dx + ((<usize>n * H * W * C) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * stride - padL;
        const kwLo = max(0, -iw0);
        const kwHi = min(KW, W - iw0);
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * stride - padT + kh;
          if (ih >= 0 && ih < H && kwLo < kwHi) {
            const dst = dxn + ((<usize>(ih * W + iw0 + kwLo) * C) << 2);
            add_to(dst, s + <usize>kwLo * cBytes, (kwHi - kwLo) * C);
          }
          s += <usize>KW * cBytes;
        }
      }
    }
  }
}

// y [N,OH,OW,F] = conv(x [N,H,W,C], w [KH,KW,C,F]) + b [F]   (b = 0: no bias)
// cols: scratch of N*OH*OW*KH*KW*C floats, 0 for a pointwise convolution; ws: GEMM scratch.
export function conv2d_forward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, cols: usize, ws: usize,
): void {
  conv2d_forward_columns(x, w, y, N, H, W, C, KH, KW, F, stride, padT, padL, OH, OW, 0, F, cols, ws);
  if (b != 0) bias_add(y, b, N * OH * OW, F);
}

// y [N,OH,OW, f0..f1) = conv(x, w [KH,KW,C, f0..f1)), no bias: output channels f0 to f1 of F, the
// share of one thread when several split one image's convolution (the other channels untouched).
// Each output is summed in the same order as by conv2d_forward, so the split changes no bit.
export function conv2d_forward_columns(
  x: usize, w: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, f0: i32, f1: i32, cols: usize, ws: usize,
): void {
  assert(0 <= f0 && f0 <= f1 && f1 <= F);
  const M = N * OH * OW;
  const K = KH * KW * C;
  checkPointwise(cols, KH, KW, stride, padT, padL);
  let a = x;
  if (cols != 0) {
    im2col(x, N, H, W, C, KH, KW, stride, padT, padL, OH, OW, cols);
    a = cols;
  }
  const skip = <usize>f0 << 2;
  sgemm(M, f1 - f0, K, a, K, 1, w + skip, F, 1, y + skip, F, false, ws);
}

// dx [N,H,W,C] = gradient of sum(y * dy) with respect to x, from dy [N,OH,OW,F] and w.
export function conv2d_backward_input(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, cols: usize, ws: usize,
): void {
  const M = N * OH * OW;
  const K = KH * KW * C;
  // dcols [M,K] = dy [M,F] · wᵀ, where w is [K,F] row-major.
  checkPointwise(cols, KH, KW, stride, padT, padL);
  if (cols == 0) {
    sgemm(M, K, F, dy, F, 1, w, 1, F, dx, K, false, ws);
  } else {
    sgemm(M, K, F, dy, F, 1, w, 1, F, cols, K, false, ws);
    col2im(cols, N, H, W, C, KH, KW, stride, padT, padL, OH, OW, dx);
  }
}

// dw [KH,KW,C,F] (+)= colsᵀ · dy and db [F] (+)= column sums of dy (b = 0: no bias).
// `accumulate` adds to dw/db instead of overwriting them.
export function conv2d_backward_kernel(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, F: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, accumulate: bool, cols: usize, ws: usize,
): void {
  const M = N * OH * OW;
  const K = KH * KW * C;
  checkPointwise(cols, KH, KW, stride, padT, padL);
  let a = x;
  if (cols != 0) {
    im2col(x, N, H, W, C, KH, KW, stride, padT, padL, OH, OW, cols);
    a = cols;
  }
  sgemm(K, F, M, a, 1, K, dy, F, 1, dw, F, accumulate, ws);
  if (db != 0) col_sum(dy, M, F, db, accumulate);
}
