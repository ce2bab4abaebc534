import { window2d, type Padding } from '../kernels/padding.js';
import { getInitializer, initializers, type Initializer, type InitializerName } from './initializers.js';
import { expectInputs, Layer, positiveInt, squareSize, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { activationForward, activationBackward, checkActivation, logitsBytes, type ActivationName } from './activation-functions.js';

export interface Conv2DArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  useBias?: boolean;
  activation?: ActivationName;
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
  name?: string;
}

// 2-D convolution: (N, H, W, C) -> (N, OH, OW, filters), kernel (kh, kw, C, filters).
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: Conv2DArgs) {
    super(args, 'Conv2D');
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.kernelSize = squareSize(this.name, 'kernelSize', args.kernelSize, 0);
    this.strides = squareSize(this.name, 'strides', args.strides, 1);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new Error(`simdnet: layer "${this.name}": padding must be "valid" or "same"`);
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
      kernelInitializer: { className: this.kernelInitializer.className, config: this.kernelInitializer.getConfig() },
      biasInitializer: { className: this.biasInitializer.className, config: this.biasInitializer.getConfig() },
    };
  }

  private isPointwise(): boolean {
    return this.kernelSize === 1 && this.strides === 1;
  }

  needsOutputForBackward(): boolean { return this.activation !== 'linear'; }

  stateBytes(rows: number, training: boolean): number {
    return logitsBytes(this.activation, rows * this.outputShape[0] * this.outputShape[1], this.filters, training);
  }

  logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.state : 0; }

  scratchBytes(rows: number): number {
    if (this.isPointwise()) return 0;
    const g = this.geometry(this.inputShapes[0]);
    return rows * g.OH * g.OW * this.kernelSize * this.kernelSize * g.C * 4;
  }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(this.inputShapes[0]), K = this.kernelSize;
    ctx.k.conv2d_forward(b.inputs[0], b.weights[0], this.useBias ? b.weights[1] : 0, b.output, ctx.rows,
      g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, ctx.scratch, ctx.gemmWorkspace);
    activationForward(ctx, this.activation, b.output, ctx.rows * g.OH * g.OW, this.filters, b.state);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const g = this.geometry(this.inputShapes[0]), K = this.kernelSize;
    const dy = activationBackward(ctx, this.activation, b.output, b.dOutput, ctx.rows * g.OH * g.OW, this.filters, b.gradIsLogits);
    ctx.k.conv2d_backward_kernel(b.inputs[0], dy, b.grads[0], this.useBias ? b.grads[1] : 0, ctx.rows,
      g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, 0, ctx.scratch, ctx.gemmWorkspace);
    if (b.dInputs[0]) {
      ctx.k.conv2d_backward_input(dy, b.weights[0], b.dInputs[0], ctx.rows,
        g.H, g.W, g.C, K, K, this.filters, this.strides, g.padT, g.padL, g.OH, g.OW, ctx.scratch, ctx.gemmWorkspace);
    }
  }
}
