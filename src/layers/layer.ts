// The base of every layer: configuration, weights, symbolic application (the functional API)
// and the forward/backward contract the executor drives.

import type { KernelExports } from '../kernels/index.js';
import type { Initializer } from './initializers.js';

// A shape without the batch dimension, e.g. [64, 64, 3].
export type Shape = number[];

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

// A tensor in a model under construction: it knows its shape and the layer that produces it.
export class SymbolicTensor {
  constructor(readonly shape: Shape, readonly sourceLayer: Layer) {}
  get name(): string { return this.sourceLayer.name; }
}

export interface Weight {
  readonly name: string;      // "kernel"
  readonly fullName: string;  // "conv1/kernel"
  readonly shape: Shape;
  readonly size: number;
  readonly trainable: boolean;
  readonly initializer: Initializer;
}

// Combines per-channel float64 sums over the workers that share a batch. After `allReduce`,
// the C values at `a` and at `b` hold the totals, identical on every worker.
export interface SumReducer {
  allReduce(slot: number, a: number, b: number, C: number): void;
}

// What a layer sees while it runs: the kernels, scratch memory and the batch it is part of.
export interface StepContext {
  readonly k: KernelExports;
  readonly gemmWorkspace: number;
  readonly scratch: number;   // scratch memory shared by all layers, scratchBytes() of the largest
  readonly training: boolean;
  readonly rows: number;      // samples in this worker's share of the batch
  readonly totalRows: number; // samples in the whole batch
  readonly reducer: SumReducer;
  readonly updatesSharedState: boolean; // one worker per batch updates moving statistics
}

// Byte offsets of everything one layer reads and writes in one step.
export interface LayerBuffers {
  inputs: number[];
  output: number;
  state: number;        // kept from forward to backward (stateBytes), 0 if none
  dOutput: number;
  dInputs: number[];    // 0 where no gradient is needed (e.g. the model input)
  weights: number[];    // in the order of layer.weights
  grads: number[];      // 0 for non-trainable weights
  syncSlot: number;     // the first SumReducer slot this layer may use
  gradIsLogits: boolean; // dOutput is the gradient of the logits of a softmax fused with its loss
}

const nameCounters = new Map<string, number>();

// Keras's automatic names: the class in snake case with a per-class counter, e.g. "activation_4".
export function uniqueName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}

// Restarts automatic names (Keras: clear_session), so that a model rebuilt gets the same names.
export function resetNames(): void {
  nameCounters.clear();
}

function snakeCase(className: string): string {
  return className.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

export interface LayerArgs { name?: string }

export abstract class Layer {
  abstract readonly className: string;
  readonly name: string;
  inbound: SymbolicTensor[] = [];
  inputShapes: Shape[] = [];
  outputShape: Shape = [];
  weights: Weight[] = [];
  output?: SymbolicTensor;

  constructor(args: LayerArgs, className: string) {
    if (args.name !== undefined && (typeof args.name !== 'string' || !/^[A-Za-z0-9_.\-]+$/.test(args.name))) {
      throw new Error(`simdnet: bad layer name ${JSON.stringify(args.name)} (letters, digits, _ . - only)`);
    }
    this.name = args.name ?? uniqueName(snakeCase(className).replace(/(\d)_d$/, '$1d'));
  }

  // Connects the layer to its inputs (the functional API: `new Dense({units: 6}).apply(x)`).
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    if (this.output) throw new Error(`simdnet: layer "${this.name}" is already applied; sharing a layer is not supported`);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    for (const t of list) {
      if (!(t instanceof SymbolicTensor)) throw new Error(`simdnet: layer "${this.name}" was applied to something that is not a symbolic tensor`);
    }
    this.inbound = list;
    this.inputShapes = list.map((t) => t.shape);
    this.outputShape = this.computeOutputShape(this.inputShapes);
    this.build(this.inputShapes);
    this.output = new SymbolicTensor(this.outputShape, this);
    return this.output;
  }

  protected addWeight(name: string, shape: Shape, initializer: Initializer, trainable = true): void {
    this.weights.push({ name, fullName: `${this.name}/${name}`, shape, size: sizeOf(shape), trainable, initializer });
  }

  // Defines the weights, once the input shapes are known.
  protected build(_inputShapes: Shape[]): void {}

  abstract computeOutputShape(inputShapes: Shape[]): Shape;

  // Keras's layer config (camelCase keys), enough to rebuild the layer with fromConfig.
  abstract getConfig(): Record<string, unknown>;

  countParams(): number {
    return this.weights.reduce((s, w) => s + w.size, 0);
  }

  // Planning: what must survive from forward to backward, and how much scratch a step needs.
  needsInputsForBackward(): boolean { return true; }
  needsOutputForBackward(): boolean { return false; }
  stateBytes(_rows: number, _training: boolean): number { return 0; }
  scratchBytes(_rows: number, _training: boolean): number { return 0; }
  // How many SumReducer slots a training step of this layer uses, and how many float64 pairs
  // each combines.
  syncSlots(): number { return 0; }
  syncWidth(): number { return 0; }
  // Where the logits are kept when the output is a softmax (for a fused cross-entropy), else 0.
  logitsOf(_b: LayerBuffers): number { return 0; }

  abstract forward(ctx: StepContext, b: LayerBuffers): void;
  abstract backward(ctx: StepContext, b: LayerBuffers): void;
}

export function expectInputs(layer: Layer, shapes: Shape[], n: number, rank?: number): void {
  if (shapes.length !== n) throw new Error(`simdnet: layer "${layer.name}" (${layer.className}) takes ${n} input(s), got ${shapes.length}`);
  if (rank !== undefined) {
    for (const s of shapes) {
      if (s.length !== rank) {
        throw new Error(`simdnet: layer "${layer.name}" (${layer.className}) expects inputs of rank ${rank + 1} ` +
          `(batch, ${rank === 3 ? 'height, width, channels' : 'features'}), got (batch, ${s.join(', ')})`);
      }
    }
  }
}

export function positiveInt(layer: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`simdnet: layer "${layer}": ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

// Keras accepts n or [n, n] for square windows; simdnet supports square windows and strides.
export function squareSize(layer: string, what: string, v: number | [number, number] | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (Array.isArray(v)) {
    if (v.length !== 2 || v[0] !== v[1]) throw new Error(`simdnet: layer "${layer}": ${what} must be square, got [${v}]`);
    return positiveInt(layer, what, v[0]);
  }
  return positiveInt(layer, what, v);
}
