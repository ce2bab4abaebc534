import { ArgumentError } from '../errors.js';
import { window2d, type Padding } from '../kernels/padding.js';
import { channelShare, SPLIT_MIN_MULTIPLY_ADDS } from './channel-split.js';
import { applyEpilogue } from './epilogue.js';
import { activationBackward, activationForward, checkActivation, logitsBytes, type ActivationName } from './activation-functions.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { expectInputs, Layer, positiveInt, squareSize, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

/** The geometry of one depthwise pass: input (H, W, C), C·M output channels. */
export interface DepthwiseGeometry {
  H: number; W: number; C: number; M: number; K: number; stride: number; dilation: number;
  padT: number; padL: number; OH: number; OW: number;
}

export function depthwiseGeometry(layer: string, inputShape: Shape, K: number, M: number, stride: number, dilation: number, padding: Padding): DepthwiseGeometry {
  const [H, W, C] = inputShape;
  if (stride > 1 && dilation > 1) throw new ArgumentError(`layer "${layer}": strides and dilationRate cannot both exceed 1 (as in Keras)`);
  const reach = (K - 1) * dilation + 1;
  const g = window2d(H, W, reach, reach, stride, padding);
  return { H, W, C, M, K, stride, dilation, padT: g.padT, padL: g.padL, OH: g.OH, OW: g.OW };
}

/**
 * Bytes of scratch a depthwise pass with a depth multiplier needs: the input with its channels
 * repeated M times (the kernels run one filter per channel).
 */
export function depthwiseScratchBytes(g: DepthwiseGeometry, rows: number): number {
  return g.M > 1 ? rows * g.H * g.W * g.C * g.M * 4 : 0;
}

/** y [rows, OH, OW, C·M] = depthwise(x [rows, H, W, C], w [K, K, C, M]) + b (b = 0: none). */
export function depthwiseForward(ctx: StepContext, g: DepthwiseGeometry, x: number, w: number, b: number, y: number, scratch: number): void {
  let input = x;
  if (g.M > 1) {
    ctx.k.repeat_channels(x, scratch, ctx.rows * g.H * g.W, g.C, g.M);
    input = scratch;
  }
  ctx.k.depthwise_conv2d_forward(input, w, b, y, ctx.rows, g.H, g.W, g.C * g.M, g.K, g.K, g.stride, g.dilation, g.padT, g.padL, g.OH, g.OW);
}

/** From dy [rows, OH, OW, C·M]: dw and db (db = 0: none), then dx (0: not needed). */
export function depthwiseBackward(ctx: StepContext, g: DepthwiseGeometry, x: number, w: number, dy: number, dw: number, db: number, dx: number,
  scratch: number): void {
  const CM = g.C * g.M, pixels = ctx.rows * g.H * g.W;
  let input = x;
  if (g.M > 1) {
    ctx.k.repeat_channels(x, scratch, pixels, g.C, g.M);
    input = scratch;
  }
  if (dw) ctx.k.depthwise_conv2d_backward_kernel(input, dy, dw, db, ctx.rows, g.H, g.W, CM, g.K, g.K, g.stride, g.dilation, g.padT, g.padL, g.OH, g.OW, 0);
  if (!dx) return;
  const target = g.M > 1 ? scratch : dx;
  ctx.k.depthwise_conv2d_backward_input(dy, w, target, ctx.rows, g.H, g.W, CM, g.K, g.K, g.stride, g.dilation, g.padT, g.padL, g.OH, g.OW);
  if (g.M > 1) ctx.k.sum_channel_groups(scratch, dx, pixels, g.C, g.M);
}

export interface DepthwiseConv2DArgs extends LayerArgs {
  /** Window size, `k` or `[k, k]` (square windows only). Required. */
  kernelSize: number | [number, number];
  /** Step of the window, `s` or `[s, s]`. Default 1. */
  strides?: number | [number, number];
  /** `'valid'` or `'same'` (TensorFlow's split: the odd cell goes bottom/right). Default `'valid'`. */
  padding?: Padding;
  /** Filters per input channel: the output has `channels * depthMultiplier` channels, channel `c * depthMultiplier + m` from input channel `c`. Default 1. */
  depthMultiplier?: number;
  /** Spacing of the window's taps, `d` or `[d, d]`; cannot exceed 1 together with `strides`. Default 1. */
  dilationRate?: number | [number, number];
  /** Whether to add a bias per output channel. Default true. */
  useBias?: boolean;
  /** Activation applied to the output: `'linear'`, `'relu'` or `'softmax'`. Default `'linear'`. */
  activation?: ActivationName;
  /** Initializer of `depthwise_kernel` `(kh, kw, channels, depthMultiplier)`. Default `'glorotUniform'`. */
  depthwiseInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `'zeros'`. */
  biasInitializer?: InitializerSpec;
}

/**
 * Depthwise 2-D convolution, Keras's DepthwiseConv2D: each input channel convolved with its own
 * `depthMultiplier` filters. (N, H, W, C) -> (N, OH, OW, C·M), depthwise_kernel (kh, kw, C, M).
 */
export class DepthwiseConv2D extends Layer {
  static override readonly className: string = 'DepthwiseConv2D';
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly depthMultiplier: number;
  readonly dilationRate: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: DepthwiseConv2DArgs) {
    super(args);
    this.kernelSize = squareSize(this.name, 'kernelSize', args.kernelSize, 0);
    this.strides = squareSize(this.name, 'strides', args.strides, 1);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new ArgumentError(`layer "${this.name}": padding must be "valid" or "same"`);
    this.depthMultiplier = positiveInt(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.dilationRate = squareSize(this.name, 'dilationRate', args.dilationRate, 1);
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(this.name, args.activation ?? 'linear');
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer, initializers.glorotUniform());
    this.biasInitializer = getInitializer(args.biasInitializer, initializers.zeros());
  }

  /** The depthwise pass's sizes and padding for an input of `inputShape`. */
  protected geometry(inputShape = this.inputShapes[0]): DepthwiseGeometry {
    return depthwiseGeometry(this.name, inputShape, this.kernelSize, this.depthMultiplier, this.strides, this.dilationRate, this.padding);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    const g = this.geometry(inputShapes[0]);
    return [g.OH, g.OW, g.C * g.M];
  }

  protected build(inputShapes: Shape[]): void {
    const C = inputShapes[0][2];
    this.addWeight('depthwise_kernel', [this.kernelSize, this.kernelSize, C, this.depthMultiplier], this.depthwiseInitializer);
    if (this.useBias) this.addWeight('bias', [C * this.depthMultiplier], this.biasInitializer);
  }

  getConfig() {
    return {
      name: this.name, kernelSize: [this.kernelSize, this.kernelSize], strides: [this.strides, this.strides], padding: this.padding,
      depthMultiplier: this.depthMultiplier, dilationRate: [this.dilationRate, this.dilationRate], useBias: this.useBias, activation: this.activation,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer), biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }

  override get outputActivation(): ActivationName { return this.activation; }
  override multiplyAdds(): number {
    const [OH, OW, CM] = this.outputShape;
    return OH * OW * CM * this.kernelSize * this.kernelSize;
  }
  override needsOutputForBackward(): boolean { return this.activation !== 'linear'; }
  override acceptsEpilogue(): boolean { return this.activation === 'linear'; }
  // Channel by channel, so any share of them; with a depth multiplier the repeated input would
  // need splitting too.
  override splitsOutputChannels(ctx: StepContext, b: LayerBuffers): boolean {
    return b.epilogue !== undefined && this.depthMultiplier === 1 && ctx.rows * this.multiplyAdds() >= SPLIT_MIN_MULTIPLY_ADDS;
  }
  override stateBytes(rows: number, training: boolean): number {
    return logitsBytes(this.activation, rows * this.outputShape[0] * this.outputShape[1], this.outputShape[2], training);
  }
  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.state : 0; }
  override scratchBytes(rows: number): number { return depthwiseScratchBytes(this.geometry(), rows); }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry();
    const bias = this.useBias ? b.weights[1] : 0;
    if (ctx.slice && this.splitsOutputChannels(ctx, b)) {
      const [c0, c1] = channelShare(g.C, ctx.slice.index, ctx.slice.count);
      if (c1 <= c0) return;
      ctx.k.depthwise_conv2d_forward_channels(b.inputs[0], b.weights[0], 0, b.output, ctx.rows, g.H, g.W, g.C, g.K, g.K, g.stride, g.dilation,
        g.padT, g.padL, g.OH, g.OW, c0, c1);
      applyEpilogue(ctx, b.epilogue!, b.output, ctx.rows * g.OH * g.OW, g.C, bias, c0, c1);
      return;
    }
    depthwiseForward(ctx, g, b.inputs[0], b.weights[0], b.epilogue ? 0 : bias, b.output, ctx.scratch);
    if (b.epilogue) applyEpilogue(ctx, b.epilogue, b.output, ctx.rows * g.OH * g.OW, g.C * g.M, bias);
    else activationForward(ctx, this.activation, b.output, ctx.rows * g.OH * g.OW, g.C * g.M, b.state);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry();
    const dy = activationBackward(ctx, this.activation, b.output, b.dOutput, ctx.rows * g.OH * g.OW, g.C * g.M, b.gradIsLogits);
    depthwiseBackward(ctx, g, b.inputs[0], b.weights[0], dy, b.grads[0], this.useBias ? b.grads[1] : 0, b.dInputs[0], ctx.scratch);
  }
}
registerLayer(DepthwiseConv2D);
