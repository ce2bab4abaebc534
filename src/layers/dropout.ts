import { ArgumentError, describe } from '../errors.js';
import { fmix32, fnv1a32 } from './initializers.js';
import { expectInputs, Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface DropoutArgs extends LayerArgs {
  /** Fraction of the inputs set to zero in training, in [0, 1). The kept ones are scaled by 1 / (1 - rate). Required. */
  rate: number;
  /** Seed of the masks. Default 0. */
  seed?: number;
}

/**
 * Inverted dropout. In training each input is zeroed with probability `rate` and the others are
 * scaled up, so inference is the identity. A mask depends on (seed, layer name, training step,
 * the sample's index in the batch), never on which worker computes it.
 */
export class Dropout extends Layer {
  static override readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number;

  constructor(args: DropoutArgs) {
    super(args);
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ArgumentError(`layer "${this.name}": rate must be a number in [0, 1), got ${describe(args.rate)}`);
    }
    if (args.seed !== undefined && args.seed !== null && !Number.isInteger(args.seed)) {
      throw new ArgumentError(`layer "${this.name}": seed must be an integer, got ${describe(args.seed)}`);
    }
    this.rate = args.rate;
    this.seed = args.seed ?? 0;
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [...inputShapes[0]];
  }

  getConfig() { return { name: this.name, rate: this.rate, seed: this.seed }; }
  override needsInputsForBackward(): boolean { return false; }
  /** The mask (0 or 1 / (1 - rate) per input), kept for backward. */
  override stateBytes(rows: number, training: boolean): number { return training ? rows * sizeOf(this.outputShape) * 4 : 0; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const n = ctx.rows * sizeOf(this.outputShape);
    if (!ctx.training) {
      ctx.k.copy(b.output, b.inputs[0], n);
      return;
    }
    const seed = fmix32((fnv1a32(`${this.name}#${this.seed}`) + Math.imul(ctx.step, 0x9e3779b1)) >>> 0);
    ctx.k.dropout_forward(b.inputs[0], b.output, b.state, n, this.rate, seed, ctx.firstRow * sizeOf(this.outputShape));
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (b.dInputs[0]) ctx.k.dropout_backward(b.dOutput, b.state, b.dInputs[0], ctx.rows * sizeOf(this.outputShape));
  }
}
registerLayer(Dropout);
