import { ArgumentError, describe } from '../errors.js';
import { Layer, SymbolicTensor, uniqueName, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

/** Options of `input()`: the shape of one sample. */
export interface InputArgs {
  /** The shape of one sample, without the batch: `[64, 64, 3]` for a 64x64 RGB image. Required. */
  shape: Shape;
  /** Default `input_1`, `input_2`, ... */
  name?: string;
}

/** The model's entry: its output buffer is filled with the batch by the engine. */
export class InputLayer extends Layer {
  static override readonly className = 'InputLayer';
  constructor(args: InputArgs) {
    super({ name: args.name ?? uniqueName('input') });
    if (!Array.isArray(args.shape) || args.shape.length === 0 || !args.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ArgumentError(`input shape must be a list of positive integers (without the batch), got ${describe(args.shape)}`);
    }
    this.outputShape = [...args.shape];
    this.output = new SymbolicTensor(this.outputShape, this);
  }

  /** Keras stores the shape with its batch dimension: batchInputShape [null, 64, 64, 3]. */
  static override fromConfig(config: Record<string, unknown>): Layer {
    const shape = config.batchInputShape;
    if (!Array.isArray(shape) || shape.length < 2 || shape[0] !== null) {
      throw new ArgumentError(`input layer ${describe(config.name)}: batchInputShape must be [null, ...sample shape], got ${describe(shape)}`);
    }
    return new InputLayer({ shape: shape.slice(1) as number[], name: config.name as string | undefined });
  }

  computeOutputShape(): Shape { return this.outputShape; }
  getConfig() { return { batchInputShape: [null, ...this.outputShape], name: this.name }; }
  override needsInputsForBackward(): boolean { return false; }
  forward(_ctx: StepContext, _b: LayerBuffers): void { /* filled by the engine */ }
  backward(_ctx: StepContext, _b: LayerBuffers): void { /* nothing upstream */ }
}
registerLayer(InputLayer);

/** Keras's `Input(shape)`: a symbolic tensor to build a model from. */
export function input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output!;
}
