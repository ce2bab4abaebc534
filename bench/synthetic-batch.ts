// A batch of made-up images and one-hot labels for the model benchmarks: the same values in every
// run (and, with another `variant`, other values of the same kind).
import { tensor, type Tensor } from '../src/tensor.js';

export function syntheticBatch(batch: number, size = 64, variant = 0): { x: Tensor; y: Tensor } {
  return {
    x: tensor(Float32Array.from({ length: batch * size * size * 3 }, (_, i) => (((i + 7919 * variant) * 2654435761) % 1000) / 1000), [batch, size, size, 3]),
    y: tensor(Float32Array.from({ length: batch * 6 }, (_, i) => (i % 6 === (Math.floor(i / 6) + variant) % 6 ? 1 : 0)), [batch, 6]),
  };
}
