import { ArgumentError } from '../errors.js';
import { Layer, sizeOf, type EpilogueStage, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

/** Element-wise sum of two or more tensors of one shape (the residual connection). */
export class Add extends Layer {
  static override readonly className = 'Add';
  constructor(args: LayerArgs = {}) { super(args); }

  computeOutputShape(inputShapes: Shape[]): Shape {
    if (inputShapes.length < 2) throw new ArgumentError(`layer "${this.name}" (Add) needs at least two inputs`);
    const first = inputShapes[0].join(',');
    for (const s of inputShapes) {
      if (s.join(',') !== first) {
        throw new ArgumentError(`layer "${this.name}" (Add) got inputs of different shapes: ${inputShapes.map((x) => `(${x.join(', ')})`).join(' and ')}`);
      }
    }
    return [...inputShapes[0]];
  }

  getConfig() { return { name: this.name }; }
  override needsInputsForBackward(): boolean { return false; }
  override epilogueStage(): EpilogueStage | undefined { return this.inbound.length === 2 ? { kind: 'add' } : undefined; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const n = ctx.rows * sizeOf(this.outputShape);
    ctx.k.add(b.inputs[0], b.inputs[1], b.output, n);
    for (let i = 2; i < b.inputs.length; i++) ctx.k.add_to(b.output, b.inputs[i], n);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const n = ctx.rows * sizeOf(this.outputShape);
    for (const dx of b.dInputs) if (dx) ctx.k.copy(dx, b.dOutput, n);
  }
}
registerLayer(Add);
