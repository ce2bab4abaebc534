import { ArgumentError, describe } from '../errors.js';
import { checkActivation, type ActivationName } from './activation-functions.js';
import { expectInputs, Layer, sizeOf, type EpilogueStage, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface ActivationArgs extends LayerArgs {
  /** `'linear'`, `'relu'` or `'softmax'` (over the last axis). Required. */
  activation: ActivationName;
}

/** An activation as a layer of its own: Activation('relu'), or ReLU(). */
export class Activation extends Layer {
  static override readonly className: string = 'Activation';
  readonly activation: ActivationName;

  constructor(args: ActivationArgs) {
    super(args);
    this.activation = checkActivation(this.name, args.activation);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [...inputShapes[0]];
  }

  getConfig(): Record<string, unknown> { return { name: this.name, activation: this.activation }; }
  override get outputActivation(): ActivationName { return this.activation; }
  override needsInputsForBackward(): boolean { return false; }
  override needsOutputForBackward(): boolean { return true; }
  override computesOnlyRelu(): boolean { return this.activation === 'relu'; }
  override epilogueStage(): EpilogueStage | undefined {
    return this.activation === 'relu' ? { kind: 'clamp', lo: 0, hi: Infinity } : undefined;
  }

  private dims(rows: number): [number, number] {
    const cols = this.outputShape[this.outputShape.length - 1];
    return [rows * sizeOf(this.outputShape) / cols, cols];
  }

  /** A softmax fused with cross-entropy needs its input, the logits, kept. */
  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.inputs[0] : 0; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const [rows, cols] = this.dims(ctx.rows);
    if (this.activation === 'relu') ctx.k.relu_forward(b.inputs[0], b.output, rows * cols);
    else if (this.activation === 'softmax') ctx.k.softmax_forward(b.inputs[0], b.output, rows, cols);
    else ctx.k.copy(b.output, b.inputs[0], rows * cols);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const [rows, cols] = this.dims(ctx.rows);
    if (this.activation === 'relu') ctx.k.relu_backward(b.output, b.dOutput, b.dInputs[0], rows * cols);
    else if (this.activation === 'softmax' && !b.gradIsLogits) ctx.k.softmax_backward(b.output, b.dOutput, b.dInputs[0], rows, cols);
    else ctx.k.copy(b.dInputs[0], b.dOutput, rows * cols);
  }
}

export interface ReLUArgs extends LayerArgs {
  /** The ceiling of the output (6 for ReLU6), or null for none. Default null. */
  maxValue?: number | null;
  /** The slope below the threshold (a leaky ReLU). Default 0. */
  negativeSlope?: number;
  /** Values above it pass; below it the output is `negativeSlope * (x - threshold)`. Default 0. */
  threshold?: number;
}

/**
 * Keras's ReLU layer: y = min(x, maxValue) above `threshold`, negativeSlope · (x - threshold)
 * below. With its defaults it is Activation('relu') (and folds into the layer that reads it).
 */
export class ReLU extends Activation {
  static override readonly className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(args: ReLUArgs = {}) {
    super({ activation: 'relu', name: args.name, trainable: args.trainable });
    const finite = (what: string, v: unknown, min: number) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
        throw new ArgumentError(`layer "${this.name}": ${what} must be a number of at least ${min}, got ${describe(v)}`);
      }
      return v;
    };
    this.maxValue = args.maxValue === undefined || args.maxValue === null ? null : finite('maxValue', args.maxValue, 0);
    this.negativeSlope = finite('negativeSlope', args.negativeSlope ?? 0, 0);
    this.threshold = finite('threshold', args.threshold ?? 0, -Infinity);
  }

  // Anything but a plain max(x, 0) runs the clipped kernels, from the input.
  private get plain(): boolean { return this.maxValue === null && this.negativeSlope === 0 && this.threshold === 0; }

  override getConfig(): Record<string, unknown> {
    return this.plain ? { name: this.name } : { name: this.name, maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
  override get outputActivation(): ActivationName { return this.plain ? 'relu' : 'linear'; }
  override needsInputsForBackward(): boolean { return !this.plain; }
  override needsOutputForBackward(): boolean { return this.plain; }
  override computesOnlyRelu(): boolean { return this.plain; }
  override epilogueStage(): EpilogueStage | undefined {
    return this.negativeSlope === 0 && this.threshold === 0 ? { kind: 'clamp', lo: 0, hi: this.maxValue ?? Infinity } : undefined;
  }

  override forward(ctx: StepContext, b: LayerBuffers): void {
    if (this.plain) return super.forward(ctx, b);
    ctx.k.relu_clipped_forward(b.inputs[0], b.output, ctx.rows * sizeOf(this.outputShape), this.maxValue ?? Infinity, this.negativeSlope, this.threshold);
  }

  override backward(ctx: StepContext, b: LayerBuffers): void {
    if (this.plain) return super.backward(ctx, b);
    if (!b.dInputs[0]) return;
    ctx.k.relu_clipped_backward(b.inputs[0], b.dOutput, b.dInputs[0], ctx.rows * sizeOf(this.outputShape), this.maxValue ?? Infinity, this.negativeSlope, this.threshold);
  }
}
registerLayer(Activation);
registerLayer(ReLU);
