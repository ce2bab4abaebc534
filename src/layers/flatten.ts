import { expectInputs, Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

/** (N, H, W, C) -> (N, H*W*C) in NHWC order, as Keras flattens channels-last tensors. */
export class Flatten extends Layer {
  static override readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) { super(args); }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [sizeOf(inputShapes[0])];
  }

  getConfig() { return { name: this.name }; }
  override needsInputsForBackward(): boolean { return false; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    ctx.k.copy(b.output, b.inputs[0], ctx.rows * this.outputShape[0]);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (b.dInputs[0]) ctx.k.copy(b.dInputs[0], b.dOutput, ctx.rows * this.outputShape[0]);
  }
}
registerLayer(Flatten);
