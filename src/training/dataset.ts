// What fit, evaluate and predict read samples from: tensors, or a dataset that keeps its samples
// in another form (uint8 images) and turns the rows a batch needs into float32 only then.

import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor.js';

/** What fit, evaluate and predict read batches from: tensors (TensorDataset), image sets, or your own. */
export interface Dataset {
  readonly size: number;           // samples
  readonly sampleShape: number[];  // one sample's input shape, e.g. [64, 64, 3]
  readonly classes: number;        // label width (one-hot)
  /**
   * Writes the inputs of samples `indices` (row after row) into x, and their one-hot labels
   * into y when given. `epoch` and `seed` are for datasets that augment their samples.
   */
  read(indices: ArrayLike<number>, x: Float32Array, y?: Float32Array, context?: ReadContext): void;
}

export interface ReadContext {
  epoch: number;
  seed: number;
  training: boolean;
}

export function isDataset(v: unknown): v is Dataset {
  return !!v && typeof v === 'object' && typeof (v as Dataset).read === 'function' && typeof (v as Dataset).size === 'number';
}

/** Inputs x (N, ...sample) and labels y (N, classes) as a dataset. */
export class TensorDataset implements Dataset {
  readonly size: number;
  readonly sampleShape: number[];
  readonly classes: number;
  private readonly row: number;

  constructor(readonly x: Tensor, readonly y?: Tensor) {
    if (!(x instanceof Tensor) || x.rank < 2) throw new ArgumentError('a dataset needs x as a Tensor of (N, ...sample shape)');
    this.size = x.shape[0];
    this.sampleShape = x.shape.slice(1);
    this.row = x.size / Math.max(this.size, 1);
    this.classes = y ? y.shape[1] : 0;
  }

  read(indices: ArrayLike<number>, x: Float32Array, y?: Float32Array): void {
    const K = this.classes;
    for (let i = 0; i < indices.length; i++) {
      const s = indices[i];
      x.set(this.x.data.subarray(s * this.row, (s + 1) * this.row), i * this.row);
      if (y && this.y) y.set(this.y.data.subarray(s * K, (s + 1) * K), i * K);
    }
  }
}

/** The samples of `data` at `indices`, in that order (fit's validationSplit, and the like). */
export class SubsetDataset implements Dataset {
  constructor(readonly data: Dataset, readonly indices: Uint32Array) {}
  get size(): number { return this.indices.length; }
  get sampleShape(): number[] { return this.data.sampleShape; }
  get classes(): number { return this.data.classes; }
  read(indices: ArrayLike<number>, x: Float32Array, y?: Float32Array, context?: ReadContext): void {
    this.data.read(Array.from(indices, (i) => this.indices[i]), x, y, context);
  }
}
