import { ArgumentError, describe } from '../errors.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { Layer, positiveInt, type EpilogueStage, type LayerArgs, type LayerBuffers, type Shape, type StepContext, type SumRequest } from './layer.js';
import { registerLayer } from './registry.js';

export interface BatchNormalizationArgs extends LayerArgs {
  /** The axis normalized: only the last (channel) axis is supported, as `-1` or its index (Keras writes 3 for NHWC images). Default -1. */
  axis?: number;
  /**
   * Weight of the old value in the moving averages: `moving = momentum * moving + (1 - momentum) * batch`.
   * Default 0.99, Keras's: the moving statistics then average over roughly the last 100 steps, so
   * they trail the weights while those still move fast; early in training, inference-mode
   * accuracy can sit far below the training-mode figure (docs/results.md).
   */
  momentum?: number;
  /** Added to the variance before its square root. Default 1e-3 (Keras's). */
  epsilon?: number;
  /** Initializer of beta (the learned offset). Default `'zeros'`. */
  betaInitializer?: InitializerSpec;
  /** Initializer of gamma (the learned scale). Default `'ones'`. */
  gammaInitializer?: InitializerSpec;
  /** Initializer of the moving mean. Default `'zeros'`. */
  movingMeanInitializer?: InitializerSpec;
  /** Initializer of the moving variance. Default `'ones'`. */
  movingVarianceInitializer?: InitializerSpec;
}

/**
 * Batch normalization over the last axis.
 * - Training (fit, trainOnBatch, computeGradients): each channel is normalized with the mean and
 *   (biased) variance of the whole minibatch, gathered across every worker's shard, then scaled by
 *   gamma and shifted by beta; the moving mean and variance move toward the batch's by
 *   `1 - momentum`.
 * - Inference (evaluate, predict): the moving statistics are used instead, so one sample's output
 *   does not depend on the others in its batch.
 */
export class BatchNormalization extends Layer {
  static override readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly axis: number;
  private readonly inits: Initializer[];

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ArgumentError(`layer "${this.name}": momentum must be in [0, 1], got ${describe(args.momentum)}`);
    if (!(this.epsilon > 0 && Number.isFinite(this.epsilon))) throw new ArgumentError(`layer "${this.name}": epsilon must be positive, got ${describe(args.epsilon)}`);
    this.inits = [
      getInitializer(args.gammaInitializer, initializers.ones()),
      getInitializer(args.betaInitializer, initializers.zeros()),
      getInitializer(args.movingMeanInitializer, initializers.zeros()),
      getInitializer(args.movingVarianceInitializer, initializers.ones()),
    ];
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    if (inputShapes.length !== 1) throw new ArgumentError(`layer "${this.name}" takes one input`);
    const rank = inputShapes[0].length + 1;
    if (this.axis !== -1 && this.axis !== rank - 1) {
      throw new ArgumentError(`layer "${this.name}": only the last axis can be normalized (axis -1 or ${rank - 1}), got ${this.axis}`);
    }
    return [...inputShapes[0]];
  }

  protected build(inputShapes: Shape[]): void {
    const C = positiveInt(this.name, 'channels', inputShapes[0][inputShapes[0].length - 1]);
    this.addWeight('gamma', [C], this.inits[0]);
    this.addWeight('beta', [C], this.inits[1]);
    this.addWeight('moving_mean', [C], this.inits[2], false);
    this.addWeight('moving_variance', [C], this.inits[3], false);
  }

  getConfig() {
    return {
      name: this.name, axis: this.axis, momentum: this.momentum, epsilon: this.epsilon,
      gammaInitializer: serializeInitializer(this.inits[0]), betaInitializer: serializeInitializer(this.inits[1]),
      movingMeanInitializer: serializeInitializer(this.inits[2]), movingVarianceInitializer: serializeInitializer(this.inits[3]),
    };
  }

  private get channels(): number { return this.outputShape[this.outputShape.length - 1]; }
  private rowsPerSample(): number { return this.outputShape.slice(0, -1).reduce((a, b) => a * b, 1); }

  /**
   * Training keeps mean, invstd and variance [C] from forward to backward.
   * Two float64 sums [C] and the backward coefficients [3C].
   */
  override scratchBytes(): number { return 2 * this.channels * 8 + 3 * this.channels * 4; }
  override reductions(): number { return 2; }
  override epilogueStage(): EpilogueStage { return { kind: 'batchNorm', epsilon: this.epsilon }; }
  override reductionWidth(): number { return this.channels; }

  // A frozen layer normalizes with its moving statistics in training too, as Keras's does.
  private batchStatistics(ctx: StepContext): boolean { return ctx.training && this.trainable; }
  override stateBytes(_rows: number, training: boolean): number { return training && this.trainable ? 3 * this.channels * 4 : 0; }

  *forward(ctx: StepContext, b: LayerBuffers): Generator<SumRequest, void, void> {
    const C = this.channels, M = ctx.rows * this.rowsPerSample();
    const [gamma, beta, movingMean, movingVar] = b.weights;
    if (!this.batchStatistics(ctx)) {
      ctx.k.bn_inference_forward(b.inputs[0], M, C, gamma, beta, movingMean, movingVar, this.epsilon, b.output, ctx.scratch);
      return;
    }
    const mean = b.state, invstd = mean + 4 * C, variance = invstd + 4 * C;
    const sum = ctx.scratch, sumsq = sum + 8 * C;
    ctx.k.bn_forward_sums(b.inputs[0], M, C, sum, sumsq);
    yield { reduction: b.firstReduction, a: sum, b: sumsq, C };
    ctx.k.bn_forward_stats(sum, sumsq, ctx.totalRows * this.rowsPerSample(), this.epsilon, C, mean, variance, invstd);
    ctx.k.bn_forward_normalize(b.inputs[0], M, C, mean, invstd, gamma, beta, b.output);
    if (ctx.updatesSharedState) ctx.k.bn_update_moving(mean, variance, movingMean, movingVar, C, ctx.movingMomentum ?? this.momentum);
  }

  *backward(ctx: StepContext, b: LayerBuffers): Generator<SumRequest, void, void> {
    const C = this.channels, M = ctx.rows * this.rowsPerSample();
    if (!this.batchStatistics(ctx)) {
      // y = (x - mean) * gamma / sqrt(var + eps) + beta with fixed statistics: dx = dy * gamma /
      // sqrt(var + eps), the inference kernel applied to dy with zero mean and offset.
      if (!b.dInputs[0]) return;
      const zeros = ctx.scratch, coef = zeros + 4 * C;
      ctx.k.zero(zeros, C);
      ctx.k.bn_inference_forward(b.dOutput, M, C, b.weights[0], zeros, zeros, b.weights[3], this.epsilon, b.dInputs[0], coef);
      return;
    }
    const mean = b.state, invstd = mean + 4 * C;
    const sumDy = ctx.scratch, sumDyXhat = sumDy + 8 * C, coef = sumDyXhat + 8 * C;
    ctx.k.bn_backward_sums(b.dOutput, b.inputs[0], mean, invstd, M, C, sumDy, sumDyXhat);
    // This shard's share of dgamma and dbeta: the engine adds the shards' gradients.
    ctx.k.bn_param_grads(sumDy, sumDyXhat, C, b.grads[0], b.grads[1], 0);
    if (!b.dInputs[0]) return;
    yield { reduction: b.firstReduction + 1, a: sumDy, b: sumDyXhat, C };
    ctx.k.bn_backward_dx(b.dOutput, b.inputs[0], mean, invstd, b.weights[0], sumDy, sumDyXhat,
      ctx.totalRows * this.rowsPerSample(), M, C, coef, b.dInputs[0]);
  }
}
registerLayer(BatchNormalization);
