import { checkActivation, type ActivationName } from './activation-functions.js';
import { expectInputs, Layer, sizeOf, type LayerBuffers, type Shape, type StepContext } from './layer.js';

export interface ActivationArgs { activation: ActivationName; name?: string }

// An activation as a layer of its own: Activation('relu'), or ReLU().
export class Activation extends Layer {
  readonly className: string = 'Activation';
  readonly activation: ActivationName;

  constructor(args: ActivationArgs, className = 'Activation') {
    super(args, className);
    this.activation = checkActivation(this.name, args.activation);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [...inputShapes[0]];
  }

  getConfig(): Record<string, unknown> { return { name: this.name, activation: this.activation }; }
  needsInputsForBackward(): boolean { return false; }
  needsOutputForBackward(): boolean { return true; }

  private dims(rows: number): [number, number] {
    const cols = this.outputShape[this.outputShape.length - 1];
    return [rows * sizeOf(this.outputShape) / cols, cols];
  }

  // A softmax fused with cross-entropy needs its input, the logits, kept.
  logitsOf(b: LayerBuffers): number { return this.activation === 'softmax' ? b.inputs[0] : 0; }

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
  override readonly className = 'ReLU';
  constructor(args: { name?: string } = {}) {
    super({ activation: 'relu', name: args.name }, 'ReLU');
  }
  override getConfig(): Record<string, unknown> { return { name: this.name }; }
}
