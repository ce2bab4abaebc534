import { ArgumentError } from '../errors.js';
import { isPointwise, window2d, type Padding } from '../kernels/padding.js';
import { chooseConvAlgorithm, convScratchBytes, winogradTile, type ConvGeometry } from '../kernels/conv-algorithm.js';
import type { Runtime } from '../kernels/index.js';
import { channelShare, SPLIT_MIN_MULTIPLY_ADDS } from './channel-split.js';
import { applyEpilogue } from './epilogue.js';
import { activationBackward, activationForward, checkActivation, logitsBytes, type ActivationName } from './activation-functions.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { expectInputs, Layer, positiveInt, squareSize, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface Conv2DArgs extends LayerArgs {
  /** Number of output channels. Required. */
  filters: number;
  /** Window size, `k` or `[k, k]` (square windows only). Required. */
  kernelSize: number | [number, number];
  /** Step of the window, `s` or `[s, s]`. Default 1. */
  strides?: number | [number, number];
  /** `'valid'` (no padding) or `'same'` (output size ceil(input / stride), TensorFlow's split: the odd cell goes bottom/right). Default `'valid'`. */
  padding?: Padding;
  /** Whether to add a bias per filter. Default true. */
  useBias?: boolean;
  /** Activation applied to the output: `'linear'`, `'relu'` or `'softmax'`. Default `'linear'`. */
  activation?: ActivationName;
  /** Initializer of the kernel `(kh, kw, cin, filters)`. Default `'glorotUniform'`. */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `'zeros'`. */
  biasInitializer?: InitializerSpec;
}

/** 2-D convolution: (N, H, W, C) -> (N, OH, OW, filters), kernel (kh, kw, C, filters). */
export class Conv2D extends Layer {
  static override readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: Conv2DArgs) {
    super(args);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.kernelSize = squareSize(this.name, 'kernelSize', args.kernelSize, 0);
    this.strides = squareSize(this.name, 'strides', args.strides, 1);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new ArgumentError(`layer "${this.name}": padding must be "valid" or "same"`);
    this.useBias = args.useBias ?? true;
    this.activation = checkActivation(this.name, args.activation ?? 'linear');
    this.kernelInitializer = getInitializer(args.kernelInitializer, initializers.glorotUniform());
    this.biasInitializer = getInitializer(args.biasInitializer, initializers.zeros());
  }

  private geometry(inputShape: Shape) {
    const [H, W, C] = inputShape;
    return { H, W, C, ...window2d(H, W, this.kernelSize, this.kernelSize, this.strides, this.padding) };
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    const g = this.geometry(inputShapes[0]);
    return [g.OH, g.OW, this.filters];
  }

  protected build(inputShapes: Shape[]): void {
    const C = inputShapes[0][2];
    this.addWeight('kernel', [this.kernelSize, this.kernelSize, C, this.filters], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  getConfig() {
    return {
      name: this.name, filters: this.filters, kernelSize: [this.kernelSize, this.kernelSize],
      strides: [this.strides, this.strides], padding: this.padding, useBias: this.useBias, activation: this.activation,
      kernelInitializer: serializeInitializer(this.kernelInitializer), biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }

  private pointwise(): boolean {
    const g = this.geometry(this.inputShapes[0]);
    return isPointwise(this.kernelSize, this.kernelSize, this.strides, g.padT, g.padL);
  }

  override get outputActivation(): ActivationName { return this.activation; }
  override multiplyAdds(): number {
    const [OH, OW, F] = this.outputShape;
    return OH * OW * F * this.kernelSize * this.kernelSize * this.inputShapes[0][2];
  }

  override needsOutputForBackward(): boolean { return this.activation !== 'linear'; }
  override acceptsEpilogue(): boolean { return this.activation === 'linear'; }
  // The GEMM path with an epilogue (which adds the bias): each thread's channels are a column
  // block of the GEMM, summed as the whole is, so the outputs keep their bits. (A layer that
  // chose Winograd or the direct kernel stays whole: the im2col path would round differently.)
  override splitsOutputChannels(ctx: StepContext, b: LayerBuffers): boolean {
    return b.epilogue !== undefined && ctx.kernels[this.name] === 'im2col' && ctx.rows * this.multiplyAdds() >= SPLIT_MIN_MULTIPLY_ADDS;
  }

  override stateBytes(rows: number, training: boolean): number {
    return logitsBytes(this.activation, rows * this.outputShape[0] * this.outputShape[1], this.filters, training);
  }

  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.state : 0; }

  private passGeometry(rows: number): ConvGeometry {
    const g = this.geometry(this.inputShapes[0]), K = this.kernelSize;
    return { N: rows, H: g.H, W: g.W, C: g.C, F: this.filters, KH: K, KW: K, stride: this.strides, padT: g.padT, padL: g.padL, OH: g.OH, OW: g.OW };
  }

  /**
   * Room for whichever algorithm the machine picks: the im2col matrix, Winograd's transforms or
   * the direct kernel's padded copy.
   */
  override scratchBytes(rows: number): number {
    return convScratchBytes(this.passGeometry(rows), this.pointwise());
  }

  override chooseKernel(rt: Runtime, rows: number): string {
    return chooseConvAlgorithm(rt, this.passGeometry(rows));
  }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(this.inputShapes[0]), K = this.kernelSize;
    const bias = this.useBias && !b.epilogue ? b.weights[1] : 0;
    const algorithm = ctx.kernels[this.name];
    if (ctx.slice && this.splitsOutputChannels(ctx, b)) {
      const [f0, f1] = channelShare(this.filters, ctx.slice.index, ctx.slice.count);
      if (f1 <= f0) return;
      ctx.k.conv2d_forward_columns(b.inputs[0], b.weights[0], b.output, ctx.rows, g.H, g.W, g.C, K, K, this.filters, this.strides,
        g.padT, g.padL, g.OH, g.OW, f0, f1, this.pointwise() ? 0 : ctx.scratch, ctx.gemmWorkspace);
      applyEpilogue(ctx, b.epilogue!, b.output, ctx.rows * g.OH * g.OW, this.filters, this.useBias ? b.weights[1] : 0, f0, f1);
      return;
    }
    if (algorithm === 'direct') {
      ctx.k.conv2d_direct_forward(b.inputs[0], b.weights[0], bias, b.output, ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, ctx.scratch);
    } else if (algorithm === 'winograd' || algorithm === 'winograd4x4') {
      ctx.k.conv2d_winograd_forward(b.inputs[0], b.weights[0], bias, b.output, ctx.rows,
        g.H, g.W, g.C, this.filters, g.padT, g.padL, g.OH, g.OW, winogradTile(algorithm), ctx.scratch, ctx.gemmWorkspace);
    } else {
      ctx.k.conv2d_forward(b.inputs[0], b.weights[0], bias, b.output, ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, this.pointwise() ? 0 : ctx.scratch, ctx.gemmWorkspace);
    }
    if (b.epilogue) applyEpilogue(ctx, b.epilogue, b.output, ctx.rows * g.OH * g.OW, this.filters, this.useBias ? b.weights[1] : 0);
    else activationForward(ctx, this.activation, b.output, ctx.rows * g.OH * g.OW, this.filters, b.state);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(this.inputShapes[0]), K = this.kernelSize;
    const cols = this.pointwise() ? 0 : ctx.scratch;
    const dy = activationBackward(ctx, this.activation, b.output, b.dOutput, ctx.rows * g.OH * g.OW, this.filters, b.gradIsLogits);
    const algorithm = ctx.kernels[this.name];
    if (algorithm === 'winograd' || algorithm === 'winograd4x4') {
      ctx.k.conv2d_winograd_backward_kernel(b.inputs[0], dy, b.grads[0], this.useBias ? b.grads[1] : 0, ctx.rows,
        g.H, g.W, g.C, this.filters, g.padT, g.padL, g.OH, g.OW, 0, winogradTile(algorithm), ctx.scratch, ctx.gemmWorkspace);
    } else if (algorithm === 'direct') {
      ctx.k.conv2d_direct_backward_kernel(b.inputs[0], dy, b.grads[0], this.useBias ? b.grads[1] : 0, ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, 0, ctx.scratch);
    } else {
      ctx.k.conv2d_backward_kernel(b.inputs[0], dy, b.grads[0], this.useBias ? b.grads[1] : 0, ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, 0, cols, ctx.gemmWorkspace);
    }
    if (!b.dInputs[0]) return;
    // The direct kernel has no pass to the input: a layer with few input channels is a first layer.
    if (algorithm === 'winograd' || algorithm === 'winograd4x4') {
      ctx.k.conv2d_winograd_backward_input(dy, b.weights[0], b.dInputs[0], ctx.rows,
        g.H, g.W, g.C, this.filters, g.padT, g.padL, g.OH, g.OW, winogradTile(algorithm), ctx.scratch, ctx.gemmWorkspace);
    } else {
      ctx.k.conv2d_backward_input(dy, b.weights[0], b.dInputs[0], ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, cols, ctx.gemmWorkspace);
    }
  }
}
registerLayer(Conv2D);
