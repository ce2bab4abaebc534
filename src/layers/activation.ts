import { checkActivation, type ActivationName } from './activation-functions.js';
import { expectInputs, Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface ActivationArgs extends LayerArgs {
  /** `'linear'`, `'relu'` or `'softmax'` (over the last axis). Required. */
  activation: ActivationName;
}

// An activation as a layer of its own: Activation('relu'), or ReLU().
export class Activation extends Layer {
  static override readonly className: string = 'Activation';
  readonly activation: ActivationName;

  constructor(args: ActivationArgs) {
    super(args);
    this.activation = checkActivation(this.name, args.activation);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [...inputShapes[0]];
  }

  getConfig(): Record<string, unknown> { return { name: this.name, activation: this.activation }; }
  override get outputActivation(): ActivationName { return this.activation; }
  override needsInputsForBackward(): boolean { return false; }
  override needsOutputForBackward(): boolean { return true; }
  override computesOnlyRelu(): boolean { return this.activation === 'relu'; }

  private dims(rows: number): [number, number] {
    const cols = this.outputShape[this.outputShape.length - 1];
    return [rows * sizeOf(this.outputShape) / cols, cols];
  }

  // A softmax fused with cross-entropy needs its input, the logits, kept.
  override logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.inputs[0] : 0; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const [rows, cols] = this.dims(ctx.rows);
    if (this.activation === 'relu') ctx.k.relu_forward(b.inputs[0], b.output, rows * cols);
    else if (this.activation === 'softmax') ctx.k.softmax_forward(b.inputs[0], b.output, rows, cols);
    else ctx.k.copy(b.output, b.inputs[0], rows * cols);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const [rows, cols] = this.dims(ctx.rows);
    if (this.activation === 'relu') ctx.k.relu_backward(b.output, b.dOutput, b.dInputs[0], rows * cols);
    else if (this.activation === 'softmax' && !b.gradIsLogits) ctx.k.softmax_backward(b.output, b.dOutput, b.dInputs[0], rows, cols);
    else ctx.k.copy(b.dInputs[0], b.dOutput, rows * cols);
  }
}

export class ReLU extends Activation {
  static override readonly className = 'ReLU';
  constructor(args: LayerArgs = {}) {
    super({ activation: 'relu', name: args.name, trainable: args.trainable });
  }
  override getConfig(): Record<string, unknown> { return { name: this.name }; }
}
registerLayer(Activation);
registerLayer(ReLU);
