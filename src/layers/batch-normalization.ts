import { getInitializer, initializers, type Initializer, type InitializerName } from './initializers.js';
import { Layer, positiveInt, type LayerBuffers, type Shape, type StepContext } from './layer.js';

export interface BatchNormalizationArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  betaInitializer?: InitializerName | Initializer;
  gammaInitializer?: InitializerName | Initializer;
  movingMeanInitializer?: InitializerName | Initializer;
  movingVarianceInitializer?: InitializerName | Initializer;
  name?: string;
}

// Batch normalization over the last axis. Training normalizes with the statistics of the whole
// batch (combined across workers) and updates the moving statistics; inference uses them.
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly axis: number;
  private readonly inits: Initializer[];

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'BatchNormalization');
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`simdnet: layer "${this.name}": momentum must be in [0, 1]`);
    if (!(this.epsilon > 0)) throw new Error(`simdnet: layer "${this.name}": epsilon must be positive`);
    this.inits = [
      getInitializer(args.gammaInitializer, initializers.ones()),
      getInitializer(args.betaInitializer, initializers.zeros()),
      getInitializer(args.movingMeanInitializer, initializers.zeros()),
      getInitializer(args.movingVarianceInitializer, initializers.ones()),
    ];
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    if (inputShapes.length !== 1) throw new Error(`simdnet: layer "${this.name}" takes one input`);
    const rank = inputShapes[0].length + 1;
    // Keras writes axis=3 for NHWC images; only the channel (last) axis is supported.
    if (this.axis !== -1 && this.axis !== rank - 1) {
      throw new Error(`simdnet: layer "${this.name}": only the last axis can be normalized (axis -1 or ${rank - 1}), got ${this.axis}`);
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
    const init = (i: Initializer) => ({ className: i.className, config: i.getConfig() });
    return {
      name: this.name, axis: this.axis, momentum: this.momentum, epsilon: this.epsilon,
      gammaInitializer: init(this.inits[0]), betaInitializer: init(this.inits[1]),
      movingMeanInitializer: init(this.inits[2]), movingVarianceInitializer: init(this.inits[3]),
    };
  }

  private get channels(): number { return this.outputShape[this.outputShape.length - 1]; }
  private rowsPerSample(): number { return this.outputShape.slice(0, -1).reduce((a, b) => a * b, 1); }

  // Training keeps mean, invstd and variance [C] from forward to backward.
  stateBytes(_rows: number, training: boolean): number { return training ? 3 * this.channels * 4 : 0; }
  // Two float64 sums [C] and the backward coefficients [3C].
  scratchBytes(): number { return 2 * this.channels * 8 + 3 * this.channels * 4; }
  syncSlots(): number { return 2; }
  syncWidth(): number { return this.channels; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const C = this.channels, M = ctx.rows * this.rowsPerSample();
    const [gamma, beta, movingMean, movingVar] = b.weights;
    if (!ctx.training) {
      ctx.k.bn_inference_forward(b.inputs[0], M, C, gamma, beta, movingMean, movingVar, this.epsilon, b.output);
      return;
    }
    const mean = b.state, invstd = mean + 4 * C, variance = invstd + 4 * C;
    const sum = ctx.scratch, sumsq = sum + 8 * C;
    ctx.k.bn_forward_sums(b.inputs[0], M, C, sum, sumsq);
    ctx.reducer.allReduce(b.syncSlot, sum, sumsq, C);
    ctx.k.bn_forward_stats(sum, sumsq, ctx.totalRows * this.rowsPerSample(), this.epsilon, C, mean, variance, invstd);
    ctx.k.bn_forward_normalize(b.inputs[0], M, C, mean, invstd, gamma, beta, b.output);
    if (ctx.updatesSharedState) ctx.k.bn_update_moving(mean, variance, movingMean, movingVar, C, this.momentum);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const C = this.channels, M = ctx.rows * this.rowsPerSample();
    const mean = b.state, invstd = mean + 4 * C;
    const sumDy = ctx.scratch, sumDyXhat = sumDy + 8 * C, coef = sumDyXhat + 8 * C;
    ctx.k.bn_backward_sums(b.dOutput, b.inputs[0], mean, invstd, M, C, sumDy, sumDyXhat);
    // This worker's share of dgamma and dbeta: the trainer adds the workers' gradients.
    ctx.k.bn_param_grads(sumDy, sumDyXhat, C, b.grads[0], b.grads[1], 0);
    if (!b.dInputs[0]) return;
    ctx.reducer.allReduce(b.syncSlot + 1, sumDy, sumDyXhat, C);
    ctx.k.bn_backward_dx(b.dOutput, b.inputs[0], mean, invstd, b.weights[0], sumDy, sumDyXhat,
      ctx.totalRows * this.rowsPerSample(), M, C, coef, b.dInputs[0]);
  }
}
