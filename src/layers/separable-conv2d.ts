import { ArgumentError } from '../errors.js';
import type { Padding } from '../kernels/padding.js';
import { activationBackward, activationForward, checkActivation, logitsBytes, type ActivationName } from './activation-functions.js';
import { depthwiseBackward, depthwiseForward, depthwiseGeometry, depthwiseScratchBytes, type DepthwiseGeometry } from './depthwise-conv2d.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { expectInputs, Layer, positiveInt, squareSize, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface SeparableConv2DArgs extends LayerArgs {
  /** Number of output channels (of the pointwise convolution). Required. */
  filters: number;
  /** Depthwise window size, `k` or `[k, k]` (square windows only). Required. */
  kernelSize: number | [number, number];
  /** Step of the depthwise window, `s` or `[s, s]`. Default 1. */
  strides?: number | [number, number];
  /** `'valid'` or `'same'` (TensorFlow's split: the odd cell goes bottom/right). Default `'valid'`. */
  padding?: Padding;
  /** Depthwise filters per input channel. Default 1. */
  depthMultiplier?: number;
  /** Spacing of the depthwise window's taps; cannot exceed 1 together with `strides`. Default 1. */
  dilationRate?: number | [number, number];
  /** Whether to add a bias per filter after the pointwise convolution. Default true. */
  useBias?: boolean;
  /** Activation applied to the output: `'linear'`, `'relu'` or `'softmax'`. Default `'linear'`. */
  activation?: ActivationName;
  /** Initializer of `depthwise_kernel` `(kh, kw, channels, depthMultiplier)`. Default `'glorotUniform'`. */
  depthwiseInitializer?: InitializerSpec;
  /** Initializer of `pointwise_kernel` `(1, 1, channels * depthMultiplier, filters)`. Default `'glorotUniform'`. */
  pointwiseInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `'zeros'`. */
  biasInitializer?: InitializerSpec;
}

/**
 * Keras's SeparableConv2D: a depthwise convolution, then a 1x1 convolution mixing the channels,
 * with no bias or activation between them. (N, H, W, C) -> (N, OH, OW, filters).
 */
export class SeparableConv2D extends Layer {
  static override readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly depthMultiplier: number;
  readonly dilationRate: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly depthwiseInitializer: Initializer;
  readonly pointwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: SeparableConv2DArgs) {
    super(args);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.kernelSize = squareSize(this.name, 'kernelSize', args.kernelSize, 0);
    this.strides = squareSize(this.name, 'strides', args.strides, 1);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new ArgumentError(`layer "${this.name}": padding must be "valid" or "same"`);
    this.depthMultiplier = positiveInt(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.dilationRate = squareSize(this.name, 'dilationRate', args.dilationRate, 1);
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(this.name, args.activation ?? 'linear');
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer, initializers.glorotUniform());
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer, initializers.glorotUniform());
    this.biasInitializer = getInitializer(args.biasInitializer, initializers.zeros());
  }

  private geometry(inputShape = this.inputShapes[0]): DepthwiseGeometry {
    return depthwiseGeometry(this.name, inputShape, this.kernelSize, this.depthMultiplier, this.strides, this.dilationRate, this.padding);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    const g = this.geometry(inputShapes[0]);
    return [g.OH, g.OW, this.filters];
  }

  protected build(inputShapes: Shape[]): void {
    const C = inputShapes[0][2];
    this.addWeight('depthwise_kernel', [this.kernelSize, this.kernelSize, C, this.depthMultiplier], this.depthwiseInitializer);
    this.addWeight('pointwise_kernel', [1, 1, C * this.depthMultiplier, this.filters], this.pointwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  getConfig() {
    return {
      name: this.name, filters: this.filters, kernelSize: [this.kernelSize, this.kernelSize], strides: [this.strides, this.strides],
      padding: this.padding, depthMultiplier: this.depthMultiplier, dilationRate: [this.dilationRate, this.dilationRate], useBias: this.useBias,
      activation: this.activation, depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      pointwiseInitializer: serializeInitializer(this.pointwiseInitializer), biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }

  override get outputActivation(): ActivationName { return this.activation; }
  override multiplyAdds(): number {
    const g = this.geometry();
    return g.OH * g.OW * g.C * g.M * (this.kernelSize * this.kernelSize + this.filters);
  }
  override needsOutputForBackward(): boolean { return this.activation !== 'linear'; }

  // The depthwise output [rows, OH, OW, C·M]: kept for backward in training (state, after the
  // logits of a softmax), in scratch at inference.
  private midBytes(rows: number): number {
    const g = this.geometry();
    return rows * g.OH * g.OW * g.C * g.M * 4;
  }
  private logitsBytes(rows: number, training: boolean): number {
    return logitsBytes(this.activation, rows * this.outputShape[0] * this.outputShape[1], this.filters, training);
  }
  override stateBytes(rows: number, training: boolean): number {
    return this.logitsBytes(rows, training) + (training ? this.midBytes(rows) : 0);
  }
  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.state : 0; }
  /** Scratch: the repeated input (depth multiplier > 1), then the depthwise output or its gradient. */
  override scratchBytes(rows: number): number { return depthwiseScratchBytes(this.geometry(), rows) + this.midBytes(rows); }

  private buffers(ctx: StepContext, b: LayerBuffers): { mid: number; repeat: number; midGrad: number } {
    const repeat = ctx.scratch, spare = ctx.scratch + depthwiseScratchBytes(this.geometry(), ctx.rows);
    return { repeat, mid: ctx.training ? b.state + this.logitsBytes(ctx.rows, true) : spare, midGrad: spare };
  }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(), CM = g.C * g.M, { mid, repeat } = this.buffers(ctx, b);
    depthwiseForward(ctx, g, b.inputs[0], b.weights[0], 0, mid, repeat);
    ctx.k.conv2d_forward(mid, b.weights[1], this.useBias ? b.weights[2] : 0, b.output, ctx.rows, g.OH, g.OW, CM, 1, 1, this.filters,
      1, 0, 0, g.OH, g.OW, 0, ctx.gemmWorkspace);
    activationForward(ctx, this.activation, b.output, ctx.rows * g.OH * g.OW, this.filters, b.state);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(), CM = g.C * g.M, { mid, repeat, midGrad } = this.buffers(ctx, b);
    const dy = activationBackward(ctx, this.activation, b.output, b.dOutput, ctx.rows * g.OH * g.OW, this.filters, b.gradIsLogits);
    if (b.grads[1]) {
      ctx.k.conv2d_backward_kernel(mid, dy, b.grads[1], this.useBias ? b.grads[2] : 0, ctx.rows, g.OH, g.OW, CM, 1, 1, this.filters,
        1, 0, 0, g.OH, g.OW, 0, 0, ctx.gemmWorkspace);
    }
    if (!b.grads[0] && !b.dInputs[0]) return;
    ctx.k.conv2d_backward_input(dy, b.weights[1], midGrad, ctx.rows, g.OH, g.OW, CM, 1, 1, this.filters, 1, 0, 0, g.OH, g.OW, 0, ctx.gemmWorkspace);
    depthwiseBackward(ctx, g, b.inputs[0], b.weights[0], midGrad, b.grads[0], 0, b.dInputs[0], repeat);
  }
}
registerLayer(SeparableConv2D);
