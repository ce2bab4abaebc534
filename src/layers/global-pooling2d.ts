import { expectInputs, Layer, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

abstract class GlobalPooling2D extends Layer {
  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    return [inputShapes[0][2]];
  }
  getConfig() { return { name: this.name }; }
  override needsInputsForBackward(): boolean { return false; }
  /** Positions per image (H·W) and channels. */
  protected dims(): [number, number] {
    const [H, W, C] = this.inputShapes[0];
    return [H * W, C];
  }
}

/** (N, H, W, C) -> (N, C): the mean over all positions. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalAveragePooling2D';
  constructor(args: LayerArgs = {}) { super(args); }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const [HW, C] = this.dims();
    ctx.k.global_avgpool_forward(b.inputs[0], b.output, ctx.rows, HW, C);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const [HW, C] = this.dims();
    ctx.k.global_avgpool_backward(b.dOutput, b.dInputs[0], ctx.rows, HW, C);
  }
}

/** (N, H, W, C) -> (N, C): the maximum over all positions, its index kept for backward. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalMaxPooling2D';
  constructor(args: LayerArgs = {}) { super(args); }

  override stateBytes(rows: number): number { return rows * this.dims()[1] * 4; }
  /** max(relu(x)) = relu(max(x)), as for MaxPooling2D. */
  override foldsInputRelu(): boolean { return true; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const [HW, C] = this.dims();
    ctx.k.global_maxpool_forward(b.inputs[0], b.output, b.state, ctx.rows, HW, C, b.inputRelu);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const [HW, C] = this.dims();
    ctx.k.maxpool_backward(b.dOutput, b.state, b.dInputs[0], ctx.rows * C, ctx.rows * HW * C);
  }
}
registerLayer(GlobalAveragePooling2D);
registerLayer(GlobalMaxPooling2D);
