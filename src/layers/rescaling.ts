import { ArgumentError, describe } from '../errors.js';
import { expectInputs, Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface RescalingArgs extends LayerArgs {
  /** The factor. Required (Keras: `scale`). For [0, 1] images to MobileNetV2's [-1, 1]: 2 with offset -1. */
  scale: number;
  /** Added after scaling. Default 0. */
  offset?: number;
}

/** y = x · scale + offset, Keras's Rescaling (a preprocessing step inside the model). */
export class Rescaling extends Layer {
  static override readonly className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;

  constructor(args: RescalingArgs) {
    super(args);
    const finite = (what: string, v: unknown) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`layer "${this.name}": ${what} must be a finite number, got ${describe(v)}`);
      return v;
    };
    this.scale = finite('scale', args?.scale);
    this.offset = finite('offset', args.offset ?? 0);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1);
    return [...inputShapes[0]];
  }

  getConfig() { return { name: this.name, scale: this.scale, offset: this.offset }; }
  override needsInputsForBackward(): boolean { return false; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    ctx.k.scale_shift(b.inputs[0], b.output, ctx.rows * sizeOf(this.outputShape), this.scale, this.offset);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (b.dInputs[0]) ctx.k.scale_shift(b.dOutput, b.dInputs[0], ctx.rows * sizeOf(this.outputShape), this.scale, 0);
  }
}
registerLayer(Rescaling);
