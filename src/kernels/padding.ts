// Output sizes and padding of windowed ops (convolution, pooling) as TensorFlow computes them.

import { ArgumentError } from '../errors.js';

export type Padding = 'valid' | 'same';

export interface Window1D {
  out: number;   // output length
  before: number; // padding before (top/left); padding after is implied by `out`
  after: number;
}

/**
 * `same`: out = ceil(in / stride), total padding split with the odd cell at the end (bottom/right);
 * `valid`: out = floor((in - k) / stride) + 1, no padding.
 */
export function window1d(size: number, kernel: number, stride: number, padding: Padding): Window1D {
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + kernel - size, 0);
    const before = Math.floor(total / 2);
    return { out, before, after: total - before };
  }
  if (padding !== 'valid') throw new ArgumentError(`padding must be "valid" or "same", got ${JSON.stringify(padding)}`);
  const out = Math.floor((size - kernel) / stride) + 1;
  if (out < 1) throw new ArgumentError(`window ${kernel} with stride ${stride} does not fit an input of size ${size} with "valid" padding`);
  return { out, before: 0, after: 0 };
}

export interface Window2D {
  OH: number; OW: number; padT: number; padL: number; padB: number; padR: number;
}

export function window2d(H: number, W: number, KH: number, KW: number, stride: number, padding: Padding): Window2D {
  const h = window1d(H, KH, stride, padding);
  const w = window1d(W, KW, stride, padding);
  return { OH: h.out, OW: w.out, padT: h.before, padB: h.after, padL: w.before, padR: w.after };
}

/**
 * A 1x1 stride-1 unpadded convolution reads its input as the GEMM matrix itself: no im2col, no
 * scratch (the kernels take cols = 0 for it).
 */
export function isPointwise(KH: number, KW: number, stride: number, padT: number, padL: number): boolean {
  return KH === 1 && KW === 1 && stride === 1 && padT === 0 && padL === 0;
}
