import { ArgumentError } from '../errors.js';
import { window2d, type Padding } from '../kernels/padding.js';
import { expectInputs, Layer, sizeOf, squareSize, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Window size, `p` or `[p, p]` (square windows only). Default 2. */
  poolSize?: number | [number, number];
  /** Step of the window. Default: the pool size. */
  strides?: number | [number, number];
  /** `'valid'` or `'same'`; padded cells never win a max and are not counted in a mean, as in TensorFlow. Default `'valid'`. */
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: Padding;

  constructor(args: Pooling2DArgs) {
    super(args);
    this.poolSize = squareSize(this.name, 'poolSize', args.poolSize, 2);
    this.strides = squareSize(this.name, 'strides', args.strides ?? undefined, this.poolSize);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new ArgumentError(`layer "${this.name}": padding must be "valid" or "same"`);
  }

  /** The window's input and output sizes and its padding. */
  protected geometry() {
    const [H, W, C] = this.inputShapes[0];
    return { H, W, C, ...window2d(H, W, this.poolSize, this.poolSize, this.strides, this.padding) };
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    const [H, W, C] = inputShapes[0];
    const g = window2d(H, W, this.poolSize, this.poolSize, this.strides, this.padding);
    return [g.OH, g.OW, C];
  }

  getConfig() {
    return { name: this.name, poolSize: [this.poolSize, this.poolSize], strides: [this.strides, this.strides], padding: this.padding };
  }
}

/** Window maximum. The index of each chosen cell is kept for the backward pass. */
export class MaxPooling2D extends Pooling2D {
  static override readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) { super(args); }

  override needsInputsForBackward(): boolean { return false; }
  override stateBytes(rows: number): number { return rows * sizeOf(this.outputShape) * 4; }
  /**
   * The ReLU before a pool (conv, ReLU, pool) costs two passes over the largest tensor of a
   * ConvNet step; the pool does it on the window maxima instead.
   */
  override foldsInputRelu(): boolean { return true; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry();
    ctx.k.maxpool_forward(b.inputs[0], b.output, b.state, ctx.rows, g.H, g.W, g.C, this.poolSize, this.poolSize,
      this.strides, g.padT, g.padL, g.OH, g.OW, b.inputRelu);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    ctx.k.maxpool_backward(b.dOutput, b.state, b.dInputs[0], ctx.rows * sizeOf(this.outputShape), ctx.rows * sizeOf(this.inputShapes[0]));
  }
}

/** Window mean over the cells inside the image. */
export class AveragePooling2D extends Pooling2D {
  static override readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) { super(args); }

  override needsInputsForBackward(): boolean { return false; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry();
    ctx.k.avgpool_forward(b.inputs[0], b.output, ctx.rows, g.H, g.W, g.C, this.poolSize, this.poolSize,
      this.strides, g.padT, g.padL, g.OH, g.OW);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const g = this.geometry();
    ctx.k.avgpool_backward(b.dOutput, b.dInputs[0], ctx.rows, g.H, g.W, g.C, this.poolSize, this.poolSize,
      this.strides, g.padT, g.padL, g.OH, g.OW);
  }
}
registerLayer(MaxPooling2D);
registerLayer(AveragePooling2D);
