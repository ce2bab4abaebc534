import { activationBackward, activationForward, checkActivation, logitsBytes, type ActivationName } from './activation-functions.js';
import { getInitializer, initializers, serializeInitializer, type Initializer, type InitializerSpec } from './initializers.js';
import { expectInputs, Layer, positiveInt, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface DenseArgs extends LayerArgs {
  /** Number of outputs. Required. */
  units: number;
  /** Activation applied to the output: `'linear'`, `'relu'` or `'softmax'`. Default `'linear'`. */
  activation?: ActivationName;
  /** Whether to add a bias. Default true. */
  useBias?: boolean;
  /** Initializer of the kernel `(inputs, units)`. Default `'glorotUniform'`. */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `'zeros'`. */
  biasInitializer?: InitializerSpec;
}

/** Fully connected: (N, I) -> (N, units), kernel (I, units). */
export class Dense extends Layer {
  static override readonly className = 'Dense';
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: DenseArgs) {
    super(args);
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = checkActivation(this.name, args.activation ?? 'linear');
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer, initializers.glorotUniform());
    this.biasInitializer = getInitializer(args.biasInitializer, initializers.zeros());
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 1);
    return [this.units];
  }

  protected build(inputShapes: Shape[]): void {
    this.addWeight('kernel', [inputShapes[0][0], this.units], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.units], this.biasInitializer);
  }

  getConfig() {
    return {
      name: this.name, units: this.units, activation: this.activation, useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer), biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }

  override get outputActivation(): ActivationName { return this.activation; }
  override multiplyAdds(): number { return this.inputShapes[0][0] * this.units; }
  override needsOutputForBackward(): boolean { return this.activation !== 'linear'; }
  override stateBytes(rows: number, training: boolean): number { return logitsBytes(this.activation, rows, this.units, training); }
  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.state : 0; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const I = this.inputShapes[0][0];
    ctx.k.dense_forward(b.inputs[0], b.weights[0], this.useBias ? b.weights[1] : 0, b.output, ctx.rows, I, this.units, ctx.gemmWorkspace);
    activationForward(ctx, this.activation, b.output, ctx.rows, this.units, b.state);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const I = this.inputShapes[0][0];
    const dy = activationBackward(ctx, this.activation, b.output, b.dOutput, ctx.rows, this.units, b.gradIsLogits);
    ctx.k.dense_backward(b.inputs[0], b.weights[0], dy, b.dInputs[0], b.grads[0], this.useBias ? b.grads[1] : 0,
      ctx.rows, I, this.units, 0, ctx.gemmWorkspace);
  }
}
registerLayer(Dense);
