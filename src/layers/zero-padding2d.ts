import { ArgumentError, describe } from '../errors.js';
import { expectInputs, Layer, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

type PaddingSpec = number | [number, number] | [[number, number], [number, number]];

export interface ZeroPadding2DArgs extends LayerArgs {
  /** `n`, `[h, w]` (symmetric) or `[[top, bottom], [left, right]]`. Default 1. */
  padding?: PaddingSpec;
}

/** Zeros around the image: padding n, [h, w] (symmetric) or [[top, bottom], [left, right]]. */
export class ZeroPadding2D extends Layer {
  static override readonly className = 'ZeroPadding2D';
  readonly pad: [[number, number], [number, number]];

  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    const p = args.padding ?? 1;
    const nonneg = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    let pad: [[number, number], [number, number]] | undefined;
    if (nonneg(p)) pad = [[p as number, p as number], [p as number, p as number]];
    else if (Array.isArray(p) && p.length === 2 && p.every(nonneg)) pad = [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
    else if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(nonneg))) {
      pad = p as [[number, number], [number, number]];
    }
    if (!pad) throw new ArgumentError(`layer "${this.name}": padding must be n, [h, w] or [[top, bottom], [left, right]], got ${describe(p)}`);
    this.pad = pad;
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    expectInputs(this, inputShapes, 1, 3);
    const [H, W, C] = inputShapes[0];
    return [H + this.pad[0][0] + this.pad[0][1], W + this.pad[1][0] + this.pad[1][1], C];
  }

  getConfig() { return { name: this.name, padding: this.pad }; }
  override needsInputsForBackward(): boolean { return false; }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const [H, W, C] = this.inputShapes[0];
    ctx.k.zeropad_forward(b.inputs[0], b.output, ctx.rows, H, W, C, this.pad[0][0], this.pad[0][1], this.pad[1][0], this.pad[1][1]);
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    if (!b.dInputs[0]) return;
    const [H, W, C] = this.inputShapes[0];
    ctx.k.zeropad_backward(b.dOutput, b.dInputs[0], ctx.rows, H, W, C, this.pad[0][0], this.pad[0][1], this.pad[1][0], this.pad[1][1]);
  }
}
registerLayer(ZeroPadding2D);
