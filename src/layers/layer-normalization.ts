import { ArgumentError, describe } from '../errors.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { expectInputs, Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext, type SymbolicTensor } from './layer.js';
import { registerLayer } from './registry.js';

export interface LayerNormalizationArgs extends LayerArgs {
  /**
   * The axes normalized together, counted with the batch as axis 0 (negative: from the end): an
   * axis or a list of them. They must be the last axes (e.g. `-1`, the channels of each position,
   * or `[1, 2, 3]`, the whole of each image). Default -1.
   */
  axis?: number | number[];
  /** Added to the variance before its square root. Default 1e-3 (Keras's). */
  epsilon?: number;
  /** Whether to add a learned offset beta. Default true. */
  center?: boolean;
  /** Whether to multiply by a learned scale gamma. Default true. */
  scale?: boolean;
  /** Initializer of beta. Default `'zeros'`. */
  betaInitializer?: InitializerSpec;
  /** Initializer of gamma. Default `'ones'`. */
  gammaInitializer?: InitializerSpec;
}

/**
 * Layer normalization, Keras semantics: each sample is normalized with the mean and (biased)
 * variance of its own values over `axis`, then scaled by gamma and shifted by beta (both shaped as
 * the normalized axes). The same in training and inference, and independent of the rest of the
 * batch. Over a whole image without gamma and beta it is tf.image.per_image_standardization (up
 * to epsilon): the robust recipe's models start with one, so a photo's exposure and contrast do
 * not reach the network.
 */
export class LayerNormalization extends Layer {
  static override readonly className = 'LayerNormalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly inits: Initializer[];

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    const axes = Array.isArray(this.axis) ? this.axis : [this.axis];
    if (axes.length === 0 || !axes.every((a) => Number.isInteger(a))) throw new ArgumentError(`layer "${this.name}": axis must be an integer or a list of them, got ${describe(args.axis)}`);
    if (!(this.epsilon > 0 && Number.isFinite(this.epsilon))) throw new ArgumentError(`layer "${this.name}": epsilon must be positive, got ${describe(args.epsilon)}`);
    for (const k of ['center', 'scale'] as const) {
      if (typeof this[k] !== 'boolean') throw new ArgumentError(`layer "${this.name}": ${k} must be true or false, got ${describe(args[k])}`);
    }
    this.inits = [getInitializer(args.gammaInitializer, initializers.ones()), getInitializer(args.betaInitializer, initializers.zeros())];
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    this.normalizedCount(inputShapes[0].length + 1);
    return [...inputShapes[0]];
  }

  // How many trailing axes of an input of `rank` (the batch axis counted) are normalized together.
  private normalizedCount(rank: number): number {
    const axes = [...new Set((Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    // The normalized values of a sample must be contiguous in memory: the last axes, not the batch.
    const trailing = axes.every((a, i) => a === rank - axes.length + i) && axes[0] >= 1;
    if (!trailing) {
      throw new ArgumentError(`layer "${this.name}": axis ${JSON.stringify(this.axis)} of an input of rank ${rank}: ` +
        'only the last axes can be normalized (e.g. -1, or [1, 2, 3] for whole images), never the batch axis 0');
    }
    return axes.length;
  }

  /** The shape of the values normalized together: the last axes of a sample (gamma's and beta's shape). */
  get normalizedShape(): Shape {
    const s = this.inputShapes[0];
    return s.slice(s.length - this.normalizedCount(s.length + 1));
  }

  protected build(): void {
    if (this.scale) this.addWeight('gamma', this.normalizedShape, this.inits[0]);
    if (this.center) this.addWeight('beta', this.normalizedShape, this.inits[1]);
  }

  getConfig() {
    return {
      name: this.name, axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale,
      gammaInitializer: serializeInitializer(this.inits[0]), betaInitializer: serializeInitializer(this.inits[1]),
    };
  }

  // Values normalized together (N), and how many such groups one sample has.
  private get groupSize(): number { return sizeOf(this.normalizedShape); }
  private get groupsPerSample(): number { return sizeOf(this.outputShape) / this.groupSize; }
  private weightAt(b: LayerBuffers, which: 'gamma' | 'beta', of: 'weights' | 'grads'): number {
    const i = this.weights.findIndex((w) => w.name === which);
    return i < 0 ? 0 : b[of][i];
  }

  /** Training keeps each group's mean and invstd for backward; inference writes them to scratch. */
  override stateBytes(rows: number, training: boolean): number { return training ? rows * this.groupsPerSample * 8 : 0; }
  override scratchBytes(rows: number, training: boolean): number { return training ? 0 : rows * this.groupsPerSample * 8; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const M = ctx.rows * this.groupsPerSample;
    const mean = ctx.training ? b.state : ctx.scratch;
    ctx.k.layernorm_forward(b.inputs[0], M, this.groupSize, this.epsilon, this.weightAt(b, 'gamma', 'weights'), this.weightAt(b, 'beta', 'weights'),
      b.output, mean, mean + 4 * M);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const dgamma = this.weightAt(b, 'gamma', 'grads'), dbeta = this.weightAt(b, 'beta', 'grads');
    if (!b.dInputs[0] && !dgamma && !dbeta) return;
    const M = ctx.rows * this.groupsPerSample;
    ctx.k.layernorm_backward(b.dOutput, b.inputs[0], b.state, b.state + 4 * M, this.weightAt(b, 'gamma', 'weights'), M, this.groupSize,
      b.dInputs[0], dgamma, dbeta);
  }
}
registerLayer(LayerNormalization);

/**
 * Each image of x standardized over its pixels and channels, without parameters (the robust
 * recipe's first layer, named `standardize`).
 */
export function standardizeImages(x: SymbolicTensor): SymbolicTensor {
  return new LayerNormalization({ axis: [1, 2, 3], center: false, scale: false, name: 'standardize' }).apply(x);
}
