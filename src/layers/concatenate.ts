import { ArgumentError } from '../errors.js';
import { Layer, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext } from './layer.js';
import { registerLayer } from './registry.js';

export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along; simdnet joins the last (channel) axis only. Default -1. */
  axis?: number;
}

/**
 * Joins two or more tensors along the channels, Keras's Concatenate (axis -1): inputs of shape
 * (..., C_i) with the same leading dimensions -> (..., Σ C_i).
 */
export class Concatenate extends Layer {
  static override readonly className = 'Concatenate';
  readonly axis: number;

  constructor(args: ConcatenateArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (this.axis !== -1) throw new ArgumentError(`layer "${this.name}" (Concatenate): only axis -1 (the channels) is supported, got ${JSON.stringify(this.axis)}`);
  }

  computeOutputShape(inputShapes: Shape[]): Shape {
    if (inputShapes.length < 2) throw new ArgumentError(`layer "${this.name}" (Concatenate) needs at least two inputs`);
    const lead = (s: Shape) => s.slice(0, -1).join(',');
    for (const s of inputShapes) {
      if (s.length !== inputShapes[0].length || lead(s) !== lead(inputShapes[0])) {
        throw new ArgumentError(`layer "${this.name}" (Concatenate) joins the last axis of inputs alike in the others; got ${inputShapes.map((x) => `(${x.join(', ')})`).join(' and ')}`);
      }
    }
    const C = inputShapes.reduce((sum, s) => sum + s[s.length - 1], 0);
    return [...inputShapes[0].slice(0, -1), C];
  }

  getConfig() { return { name: this.name, axis: this.axis }; }
  override needsInputsForBackward(): boolean { return false; }

  private rows(ctx: StepContext): number {
    return ctx.rows * sizeOf(this.outputShape) / this.outputShape[this.outputShape.length - 1];
  }

  forward(ctx: StepContext, b: LayerBuffers): void {
    const rows = this.rows(ctx), C = this.outputShape[this.outputShape.length - 1];
    let at = 0;
    for (const [i, s] of this.inputShapes.entries()) {
      const Ci = s[s.length - 1];
      ctx.k.copy_channels(b.inputs[i], Ci, 0, b.output, C, at, rows, Ci);
      at += Ci;
    }
  }

  backward(ctx: StepContext, b: LayerBuffers): void {
    const rows = this.rows(ctx), C = this.outputShape[this.outputShape.length - 1];
    let at = 0;
    for (const [i, s] of this.inputShapes.entries()) {
      const Ci = s[s.length - 1];
      if (b.dInputs[i]) ctx.k.copy_channels(b.dOutput, C, at, b.dInputs[i], Ci, 0, rows, Ci);
      at += Ci;
    }
  }
}
registerLayer(Concatenate);
