// Labeled images kept as uint8 pixels (a 10,000-image folder at 64x64 is 123 MB, not 491 MB as
// float32), turned into float32 in [0, 1] only for the rows a batch reads. It is a Dataset for
// fit, evaluate and predict; `x` and `y` give the whole set as tensors when a program wants them.

import { ArgumentError } from '../errors.js';
import { unitFloatsFromBytes } from '../kernels/unit-floats.js';
import { Tensor } from '../tensor.js';
import type { Dataset, ReadContext } from '../training/dataset.js';
import { resizeRgb } from './images.js';
import { augmentImage, checkAugmentation, mixFor, type AugmentationOptions } from './augmentation.js';

/** Labeled images kept as uint8 pixels, read as float32 in [0, 1] a batch at a time: a Dataset for fit, evaluate and predict. */
export class ImageSet implements Dataset {
  readonly size: number;
  readonly sampleShape: number[];
  private cachedX?: Tensor;
  private cachedY?: Tensor;

  constructor(
    readonly pixels: Uint8Array,        // (N, height, width, channels), row-major
    shape: number[],                    // [N, height, width, channels]
    readonly labels: Int32Array,        // (N,) class indices
    readonly classNames: string[],      // the name of each class, in label order
    readonly files?: string[],          // where each image came from, when from files
  ) {
    const [n, ...sample] = shape;
    if (shape.length !== 4 || pixels.length !== shape.reduce((a, b) => a * b, 1) || labels.length !== n) {
      throw new ArgumentError(`an image set needs pixels of (N, height, width, channels) and N labels; got ${pixels.length} pixel values for (${shape.join(', ')}) and ${labels.length} labels`);
    }
    for (let i = 0; i < n; i++) {
      if (!(labels[i] >= 0 && labels[i] < classNames.length)) throw new ArgumentError(`image ${i} has label ${labels[i]}, outside the ${classNames.length} classes`);
    }
    this.size = n;
    this.sampleShape = sample;
  }

  get classes(): number { return this.classNames.length; }
  get height(): number { return this.sampleShape[0]; }
  get width(): number { return this.sampleShape[1]; }

  read(indices: ArrayLike<number>, x: Float32Array, y?: Float32Array): void {
    const row = this.sampleShape.reduce((a, b) => a * b, 1);
    const K = this.classes;
    for (let i = 0; i < indices.length; i++) {
      const s = indices[i];
      const src = this.pixels.subarray(s * row, (s + 1) * row);
      const dst = i * row;
      unitFloatsFromBytes(src, x.subarray(dst, dst + row));
      if (y) {
        y.fill(0, i * K, (i + 1) * K);
        y[i * K + this.labels[s]] = 1;
      }
    }
  }

  /** Image i as float32 in [0, 1]. */
  image(i: number): Float32Array {
    const row = this.sampleShape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(row);
    this.read([i], out);
    return out;
  }

  /** The whole set's inputs as one float32 tensor (made on first use, then kept). */
  get x(): Tensor {
    if (!this.cachedX) {
      const out = new Float32Array(this.pixels.length);
      unitFloatsFromBytes(this.pixels, out);
      this.cachedX = new Tensor(out, [this.size, ...this.sampleShape]);
    }
    return this.cachedX;
  }

  /** The labels one-hot, (N, classes). */
  get y(): Tensor {
    this.cachedY ??= oneHot(this.labels, this.classes);
    return this.cachedY;
  }

  /** The images at `indices`, copied, in that order. */
  subset(indices: ArrayLike<number>): ImageSet {
    const row = this.sampleShape.reduce((a, b) => a * b, 1);
    const pixels = new Uint8Array(indices.length * row);
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      pixels.set(this.pixels.subarray(indices[i] * row, (indices[i] + 1) * row), i * row);
      labels[i] = this.labels[indices[i]];
    }
    return new ImageSet(pixels, [indices.length, ...this.sampleShape], labels, this.classNames, this.files && Array.from(indices, (i) => this.files![i]));
  }

  /** The images resized to height x width (bilinear, as image folders and predicted photos are). */
  resized(height: number, width: number): ImageSet {
    const [H, W, C] = this.sampleShape;
    if (C !== 3) throw new ArgumentError(`only RGB images can be resized; these have ${C} channels`);
    const out = new Uint8Array(this.size * height * width * 3);
    for (let i = 0; i < this.size; i++) {
      const img = { height: H, width: W, data: this.pixels.subarray(i * H * W * 3, (i + 1) * H * W * 3) };
      out.set(resizeRgb(img, height, width), i * height * width * 3);
    }
    return new ImageSet(out, [this.size, height, width, 3], this.labels, this.classNames, this.files);
  }

  /** The same images, augmented when fit reads them for training (evaluation reads them as they are). */
  augment(options: AugmentationOptions): Dataset {
    return new AugmentedImages(this, checkAugmentation(options));
  }

  /** Images [start, end), sharing memory. */
  slice(start: number, end: number): ImageSet {
    const row = this.sampleShape.reduce((a, b) => a * b, 1);
    return new ImageSet(this.pixels.subarray(start * row, end * row), [end - start, ...this.sampleShape], this.labels.subarray(start, end),
      this.classNames, this.files?.slice(start, end));
  }
}

class AugmentedImages implements Dataset {
  constructor(readonly images: ImageSet, readonly options: AugmentationOptions) {}
  get size(): number { return this.images.size; }
  get sampleShape(): number[] { return this.images.sampleShape; }
  get classes(): number { return this.images.classes; }

  read(indices: ArrayLike<number>, x: Float32Array, y?: Float32Array, context?: ReadContext): void {
    if (!context?.training) return this.images.read(indices, x, y);
    const [H, W, C] = this.images.sampleShape;
    const row = H * W * C, K = this.classes;
    const augmented = (s: number, out: Float32Array) => augmentImage(this.images.pixels.subarray(s * row, (s + 1) * row), H, W, out, this.options, context.seed, context.epoch, s);
    const other = new Float32Array(row);
    if (y) y.fill(0, 0, indices.length * K);
    for (let i = 0; i < indices.length; i++) {
      const s = indices[i], xi = x.subarray(i * row, (i + 1) * row);
      augmented(s, xi);
      // MixUp or CutMix with another image of the set, augmented as it would be in its own place.
      const mix = mixFor(this.options, context.seed, context.epoch, s, this.size, H, W);
      if (mix) {
        augmented(mix.partner, other);
        if (mix.box) {
          const { top, bottom, left, right } = mix.box;
          for (let r = top; r < bottom; r++) xi.set(other.subarray((r * W + left) * C, (r * W + right) * C), (r * W + left) * C);
        } else {
          for (let j = 0; j < row; j++) xi[j] = mix.lambda * xi[j] + (1 - mix.lambda) * other[j];
        }
      }
      if (y) {
        y[i * K + this.images.labels[s]] += mix ? mix.lambda : 1;
        if (mix) y[i * K + this.images.labels[mix.partner]] += 1 - mix.lambda;
      }
    }
  }
}

/** Labels (class indices) as a one-hot (N, classes) tensor. */
export function oneHot(labels: Int32Array, classes: number): Tensor {
  const y = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) y[i * classes + labels[i]] = 1;
  return new Tensor(y, [labels.length, classes]);
}
