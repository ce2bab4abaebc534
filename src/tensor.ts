import { ArgumentError } from './errors.js';
// A dense float32 tensor in row-major (NHWC) order: what users pass to and get from models.

/** A float32 array with a shape (row-major, batch first), as model inputs and outputs are. */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: number[];

  constructor(data: Float32Array, shape: number[]) {
    if (!(data instanceof Float32Array)) throw new ArgumentError('simdnet: tensor data must be a Float32Array');
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ArgumentError(`simdnet: tensor shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new ArgumentError(`simdnet: tensor shape (${shape.join(', ')}) holds ${size} values but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = [...shape];
  }

  get size(): number { return this.data.length; }
  get rank(): number { return this.shape.length; }

  /** Rows [start, end) along the first axis, sharing memory. */
  slice(start: number, end: number): Tensor {
    const row = this.data.length / (this.shape[0] || 1);
    return new Tensor(this.data.subarray(start * row, end * row), [end - start, ...this.shape.slice(1)]);
  }

  /** The shape and the first values, for logs. */
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}

/**
 * A Tensor of `shape` from `data` (copied from an array, shared from a Float32Array); refuses a size that does not match.
 *
 * @example
 * ```js
 * const x = tensor(new Float32Array(2 * 64 * 64 * 3), [2, 64, 64, 3]);
 * ```
 */
export function tensor(data: Float32Array | number[], shape: number[]): Tensor {
  return new Tensor(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}
