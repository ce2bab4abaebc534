// Test-time augmentation: a model's probabilities averaged over a few views of each image (as
// it is, mirrored, and a slightly closer centre crop of each), for evaluate and predict --tta.
// Off by default: it costs four predictions.

import type { EvaluateArgs, Model } from '../models/model.js';
import { Tensor } from '../tensor.js';

/** The centre crop's side, as a fraction of the image, of TTA's closer views. */
export const TTA_CROP = 0.875;

// (N, H, W, C) images mirrored left to right.
function mirrored(x: Tensor): Tensor {
  const [N, H, W, C] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let n = 0; n < N; n++) for (let y = 0; y < H; y++) for (let c = 0; c < W; c++) {
    const from = ((n * H + y) * W + c) * C, to = ((n * H + y) * W + (W - 1 - c)) * C;
    out.set(x.data.subarray(from, from + C), to);
  }
  return new Tensor(out, x.shape);
}

// The central `fraction` of each image, resized back to H x W (bilinear, pixel centres aligned).
function centreCrop(x: Tensor, fraction: number): Tensor {
  const [N, H, W, C] = x.shape;
  const out = new Float32Array(x.data.length);
  const sy = fraction, sx = fraction, oy = (H * (1 - fraction)) / 2, ox = (W * (1 - fraction)) / 2;
  for (let n = 0; n < N; n++) {
    const img = x.data.subarray(n * H * W * C, (n + 1) * H * W * C);
    for (let y = 0; y < H; y++) {
      const fy = Math.min(Math.max(oy + (y + 0.5) * sy - 0.5, 0), H - 1);
      const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, H - 1), wy = fy - y0;
      for (let xx = 0; xx < W; xx++) {
        const fx = Math.min(Math.max(ox + (xx + 0.5) * sx - 0.5, 0), W - 1);
        const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, W - 1), wx = fx - x0;
        for (let c = 0; c < C; c++) {
          const p = (a: number, b: number) => img[(a * W + b) * C + c];
          out[((n * H + y) * W + xx) * C + c] = (p(y0, x0) * (1 - wx) + p(y0, x1) * wx) * (1 - wy) + (p(y1, x0) * (1 - wx) + p(y1, x1) * wx) * wy;
        }
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** The views TTA averages over: the images, mirrored, their centre crop, and it mirrored. */
export function ttaViews(x: Tensor): Tensor[] {
  const crop = centreCrop(x, TTA_CROP);
  return [x, mirrored(x), crop, mirrored(crop)];
}

/**
 * Class probabilities (calibrated by the model's temperature) averaged over ttaViews of each
 * image: (N, H, W, C) images in [0, 1] -> (N, classes).
 */
export async function predictWithTta(model: Model, x: Tensor, args: EvaluateArgs = {}): Promise<Tensor> {
  const views = ttaViews(x);
  const K = model.outputShape[0];
  const sum = new Float32Array(x.shape[0] * K);
  for (const v of views) {
    const p = (await model.predictProbabilities(v, args)).data;
    for (let i = 0; i < sum.length; i++) sum[i] += p[i] / views.length;
  }
  return new Tensor(sum, [x.shape[0], K]);
}
