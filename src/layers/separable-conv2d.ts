import { applyEpilogue } from './epilogue.js';
import { activationBackward, activationForward, logitsBytes } from './activation-functions.js';
import { DepthwiseConv2D, depthwiseBackward, depthwiseForward, depthwiseScratchBytes, type DepthwiseConv2DArgs } from './depthwise-conv2d.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { positiveInt, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface SeparableConv2DArgs extends DepthwiseConv2DArgs {
  /** Number of output channels (of the pointwise convolution). Required. */
  filters: number;
  /** Initializer of `pointwise_kernel` `(1, 1, channels * depthMultiplier, filters)`. Default `'glorotUniform'`. */
  pointwiseInitializer?: InitializerSpec;
}

/**
 * Keras's SeparableConv2D: a depthwise convolution (the options of DepthwiseConv2D), then a 1x1
 * convolution mixing the channels, with no bias or activation between them; the bias and the
 * activation come after the pointwise one. (N, H, W, C) -> (N, OH, OW, filters).
 */
export class SeparableConv2D extends DepthwiseConv2D {
  static override readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly pointwiseInitializer: Initializer;

  constructor(args: SeparableConv2DArgs) {
    super(args);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer, initializers.glorotUniform());
  }

  override computeOutputShape(inputShapes: Shape[]): Shape {
    const [OH, OW] = super.computeOutputShape(inputShapes);
    return [OH, OW, this.filters];
  }

  protected override build(inputShapes: Shape[]): void {
    const C = inputShapes[0][2];
    this.addWeight('depthwise_kernel', [this.kernelSize, this.kernelSize, C, this.depthMultiplier], this.depthwiseInitializer);
    this.addWeight('pointwise_kernel', [1, 1, C * this.depthMultiplier, this.filters], this.pointwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  override getConfig() {
    return { ...super.getConfig(), filters: this.filters, pointwiseInitializer: serializeInitializer(this.pointwiseInitializer) };
  }

  override multiplyAdds(): number {
    const g = this.geometry();
    return g.OH * g.OW * g.C * g.M * (this.kernelSize * this.kernelSize + this.filters);
  }

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
  /** Scratch: the repeated input (depth multiplier > 1), then the depthwise output or its gradient. */
  override scratchBytes(rows: number): number { return depthwiseScratchBytes(this.geometry(), rows) + this.midBytes(rows); }

  private buffers(ctx: StepContext, b: LayerBuffers): { mid: number; repeat: number; midGrad: number } {
    const repeat = ctx.scratch, spare = ctx.scratch + depthwiseScratchBytes(this.geometry(), ctx.rows);
    return { repeat, mid: ctx.training ? b.state + this.logitsBytes(ctx.rows, true) : spare, midGrad: spare };
  }

  // Its pointwise GEMM reads every depthwise channel: one thread runs it.
  override splitsOutputChannels(): boolean { return false; }

  override forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(), CM = g.C * g.M, { mid, repeat } = this.buffers(ctx, b);
    depthwiseForward(ctx, g, b.inputs[0], b.weights[0], 0, mid, repeat);
    const bias = this.useBias ? b.weights[2] : 0;
    ctx.k.conv2d_forward(mid, b.weights[1], b.epilogue ? 0 : bias, b.output, ctx.rows, g.OH, g.OW, CM, 1, 1, this.filters,
      1, 0, 0, g.OH, g.OW, 0, ctx.gemmWorkspace);
    if (b.epilogue) applyEpilogue(ctx, b.epilogue, b.output, ctx.rows * g.OH * g.OW, this.filters, bias);
    else activationForward(ctx, this.activation, b.output, ctx.rows * g.OH * g.OW, this.filters, b.state);
  }

  override backward(ctx: StepContext, b: LayerBuffers): void {
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
