import { Layer, SymbolicTensor, uniqueName, type LayerBuffers, type Shape, type StepContext } from './layer.js';

export interface InputArgs { shape: Shape; name?: string }

// The model's entry: its output buffer is filled with the batch by the executor.
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  constructor(readonly args: InputArgs) {
    super({ name: args.name ?? uniqueName('input') }, 'InputLayer');
    if (!Array.isArray(args.shape) || args.shape.length === 0 || !args.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`simdnet: input shape must be a list of positive integers (without the batch), got ${JSON.stringify(args.shape)}`);
    }
    this.outputShape = [...args.shape];
    this.output = new SymbolicTensor(this.outputShape, this);
  }
  computeOutputShape(): Shape { return this.outputShape; }
  getConfig() { return { batchInputShape: [null, ...this.outputShape], name: this.name }; }
  needsInputsForBackward(): boolean { return false; }
  forward(_ctx: StepContext, _b: LayerBuffers): void { /* filled by the executor */ }
  backward(_ctx: StepContext, _b: LayerBuffers): void { /* nothing upstream */ }
}

// Keras's `Input(shape)`: a symbolic tensor to build a model from.
export function input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output!;
}
