// The base of every layer: configuration, weights, symbolic application (the functional API)
// and the forward/backward contract the executor drives.

import { ArgumentError, describe } from '../errors.js';
import type { KernelExports, Runtime } from '../kernels/index.js';
import type { ActivationName } from './activation-functions.js';
import type { Initializer } from './initializers.js';

/** A shape without the batch dimension, e.g. [64, 64, 3]. */
export type Shape = number[];

/** The number of values in a tensor of `shape`. */
export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** A tensor in a model under construction: it knows its shape and the layer that produces it. */
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

/**
 * A layer that needs totals over the whole batch (batch norm's statistics) yields one of these
 * with its shard's float64 partial sums at `a` and `b` (C values each) and resumes with the
 * totals in their place: the engine adds every shard's partials in shard order, so every shard
 * gets bit-identical totals whatever thread ran which shard.
 */
export interface SumRequest {
  readonly reduction: number; // which of the step's reductions (LayerBuffers.firstReduction + k)
  readonly a: number;
  readonly b: number;
  readonly C: number;
}

/** What forward and backward return: nothing, or (generator methods) the sums they wait for. */
export type StepWork = void | Generator<SumRequest, void, void>;

/** What a layer sees while it runs: the kernels, scratch memory and the batch it is part of. */
export interface StepContext {
  readonly k: KernelExports;
  readonly gemmWorkspace: number;
  readonly scratch: number;   // scratch memory shared by all layers, scratchBytes() of the largest
  readonly training: boolean;
  readonly rows: number;      // samples in this shard of the batch
  readonly totalRows: number; // samples in the whole batch
  readonly firstRow: number;  // index in the batch of this shard's first sample
  readonly step: number;      // the training step's number, to seed random layers (Dropout)
  readonly updatesSharedState: boolean; // one shard per batch updates moving statistics
  readonly movingMomentum?: number;     // replaces each layer's momentum (precise batch norm)
  /** Per layer name, the kernel its chooseKernel() picked on this machine (same in every thread). */
  readonly kernels: Readonly<Record<string, string>>;
  /**
   * Inference on one image with several threads: this thread's share of the layers that split
   * their output channels (splitsOutputChannels); undefined otherwise.
   */
  readonly slice?: { readonly index: number; readonly count: number };
}

/** Byte offsets of everything one layer reads and writes in one step. */
export interface LayerBuffers {
  inputs: number[];
  output: number;
  state: number;        // kept from forward to backward (stateBytes), 0 if none
  dOutput: number;
  dInputs: number[];    // 0 where no gradient is needed (e.g. the model input)
  weights: number[];    // in the order of layer.weights
  grads: number[];      // 0 for non-trainable weights
  firstReduction: number; // the first of the step's reductions this layer may request
  gradIsLogits: boolean; // dOutput is the gradient of the logits of a softmax fused with its loss
  inputRelu: boolean;    // a ReLU before this layer was folded into it: apply it to inputs[0] (foldsInputRelu)
  epilogue?: Epilogue;   // inference: the layers after this one that it applies itself (acceptsEpilogue)
}

/**
 * What a layer is to a fused inference epilogue (Graph.inferenceEpilogues): batch norm with its
 * moving statistics, a two-input add, or a clipped ReLU `min(max(x, lo), hi)`.
 */
export type EpilogueStage =
  | { readonly kind: 'batchNorm'; readonly epsilon: number }
  | { readonly kind: 'add' }
  | { readonly kind: 'clamp'; readonly lo: number; readonly hi: number };

/**
 * The layers an inference step folds into a convolution's output pass: a batch norm (its weights'
 * offsets), then optionally an add of `residual` (an activation offset, 0 if none) and a clamp
 * to [lo, hi] (-Infinity and Infinity if none).
 */
export interface Epilogue {
  readonly gamma: number;
  readonly beta: number;
  readonly movingMean: number;
  readonly movingVariance: number;
  readonly epsilon: number;
  readonly residual: number;
  readonly lo: number;
  readonly hi: number;
}

const nameCounters = new Map<string, number>();

/** Keras's automatic names: the class in snake case with a per-class counter, e.g. "activation_4". */
export function uniqueName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}

/** Restarts automatic names (Keras: clear_session), so that a model rebuilt gets the same names. */
export function resetNames(): void {
  nameCounters.clear();
}

function snakeCase(className: string): string {
  return className.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** What every layer's constructor takes besides its own options. */
export interface LayerArgs {
  /** The layer's name, unique in a model. Default: the class in snake case with a counter, as Keras names layers (`conv2d_3`). */
  name?: string;
  /**
   * Whether training updates the layer's weights. Default true. A frozen layer's weights get no
   * gradient, and a frozen BatchNormalization runs in inference mode (its moving statistics), as
   * in Keras; set it before the layer is applied (fine-tuning builds the model again from its config).
   */
  trainable?: boolean;
}

/**
 * What a layer class provides besides its instances: its Keras class name and a constructor from
 * its config (registered with registerLayer, looked up by Model.fromConfig and model files).
 */
export abstract class Layer {
  static readonly className: string = 'Layer';
  readonly name: string;
  readonly trainable: boolean;
  inbound: SymbolicTensor[] = [];
  inputShapes: Shape[] = [];
  outputShape: Shape = [];
  weights: Weight[] = [];
  output?: SymbolicTensor;

  constructor(args: LayerArgs = {}) {
    if (args.name !== undefined && (typeof args.name !== 'string' || !/^[A-Za-z0-9_.\-]+$/.test(args.name))) {
      throw new ArgumentError(`bad layer name ${describe(args.name)} (letters, digits, _ . - only)`);
    }
    this.name = args.name ?? uniqueName(snakeCase(this.className).replace(/(\d)_d$/, '$1d'));
    if (args.trainable !== undefined && typeof args.trainable !== 'boolean') throw new ArgumentError(`layer "${this.name}": trainable must be true or false, got ${describe(args.trainable)}`);
    this.trainable = args.trainable ?? true;
  }

  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  /** Most layers take their config as constructor arguments; InputLayer overrides this. */
  static fromConfig(this: new (args: Record<string, unknown>) => Layer, config: Record<string, unknown>): Layer {
    return new this(config);
  }

  /** Connects the layer to its inputs (the functional API: `new Dense({units: 6}).apply(x)`). */
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    if (this.output) throw new ArgumentError(`layer "${this.name}" is already applied; sharing a layer is not supported`);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    for (const t of list) {
      if (!(t instanceof SymbolicTensor)) throw new ArgumentError(`layer "${this.name}" was applied to something that is not a symbolic tensor`);
    }
    this.inbound = list;
    this.inputShapes = list.map((t) => t.shape);
    this.outputShape = this.computeOutputShape(this.inputShapes);
    this.build(this.inputShapes);
    this.output = new SymbolicTensor(this.outputShape, this);
    return this.output;
  }

  /** Declares a weight of `shape` (called by build), trainable unless the layer is frozen. */
  protected addWeight(name: string, shape: Shape, initializer: Initializer, trainable = true): void {
    this.weights.push({ name, fullName: `${this.name}/${name}`, shape, size: sizeOf(shape), trainable: trainable && this.trainable, initializer });
  }

  /** Defines the weights, once the input shapes are known. */
  protected build(_inputShapes: Shape[]): void {}

  /** The output's shape (without the batch) for inputs of these shapes; refuses shapes the layer cannot take. */
  abstract computeOutputShape(inputShapes: Shape[]): Shape;

  /** Keras's layer config (camelCase keys), enough to rebuild the layer with fromConfig. */
  abstract getConfig(): Record<string, unknown>;

  /** The number of weight values, trainable or not (Keras's count_params). */
  countParams(): number {
    return this.weights.reduce((s, w) => s + w.size, 0);
  }

  /** Planning: whether backward reads the layer's inputs (kept from forward). Default true. */
  needsInputsForBackward(): boolean { return true; }
  /** Planning: whether backward reads the layer's output (kept from forward). Default false. */
  needsOutputForBackward(): boolean { return false; }
  /** Bytes the layer keeps from forward to backward for a shard of `rows` samples (LayerBuffers.state). Default 0. */
  stateBytes(_rows: number, _training: boolean): number { return 0; }
  /** Bytes of scratch one pass needs for `rows` samples (StepContext.scratch, shared by all layers). Default 0. */
  scratchBytes(_rows: number, _training: boolean): number { return 0; }
  /**
   * For a layer with more than one kernel for its op: the one to run on this machine for shards
   * of `rows` samples (measured or forced); steps read it from ctx.kernels[name].
   */
  chooseKernel(_rt: Runtime, _rows: number): string | undefined { return undefined; }
  /**
   * How many SumRequests a training step of this layer makes, and how many float64 pairs each
   * combines at most.
   */
  reductions(): number { return 0; }
  /** The most float64 pairs one of those reductions combines (batch norm: its channels). Default 0. */
  reductionWidth(): number { return 0; }
  /** A ReLU layer whose only reader folds it in (below) is not run: the step skips it. */
  computesOnlyRelu(): boolean { return false; }
  /**
   * Whether this layer can apply a ReLU to its input itself, as part of its own pass (LayerBuffers
   * .inputRelu), in forward and backward: max pooling and global max pooling, since
   * max(relu(x)) = relu(max(x)).
   */
  foldsInputRelu(): boolean { return false; }
  /**
   * Whether forward applies LayerBuffers.epilogue to its output when one is given (applyEpilogue):
   * a convolution without an activation of its own. Default false.
   */
  acceptsEpilogue(): boolean { return false; }
  /**
   * Whether this inference forward, given ctx.slice, computes only that share of its output
   * channels (every thread running it), rather than running on the first thread alone. Default false.
   */
  splitsOutputChannels(_ctx: StepContext, _b: LayerBuffers): boolean { return false; }
  /** What this layer is, in inference, to an epilogue that a convolution before it applies; undefined: not foldable. */
  epilogueStage(): EpilogueStage | undefined { return undefined; }
  /** The activation applied last, which the loss and predictProbabilities need to know about. */
  get outputActivation(): ActivationName { return 'linear'; }
  /** Where the logits are kept when the output is a softmax (for a fused cross-entropy), else 0. */
  logitsOf(_b: LayerBuffers): number { return 0; }
  /** Multiply-adds per sample of the forward pass (the FLOP counter's figure: 2 FLOPs each). */
  multiplyAdds(): number { return 0; }

  /** Computes the output of one shard from its inputs (b.inputs -> b.output), keeping what backward needs in b.state. */
  abstract forward(ctx: StepContext, b: LayerBuffers): StepWork;
  /** From the output's gradient (b.dOutput): the weights' gradients (b.grads) and the inputs' (b.dInputs, 0 where none is needed). */
  abstract backward(ctx: StepContext, b: LayerBuffers): StepWork;
}

export function expectInputs(layer: Layer, shapes: Shape[], n: number, rank?: number): void {
  if (shapes.length !== n) throw new ArgumentError(`layer "${layer.name}" (${layer.className}) takes ${n} input(s), got ${shapes.length}`);
  if (rank !== undefined) {
    for (const s of shapes) {
      if (s.length !== rank) {
        throw new ArgumentError(`layer "${layer.name}" (${layer.className}) expects inputs of rank ${rank + 1} ` +
          `(batch, ${rank === 3 ? 'height, width, channels' : 'features'}), got (batch, ${s.join(', ')})`);
      }
    }
  }
}

export function positiveInt(layer: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError(`layer "${layer}": ${what} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** Keras accepts n or [n, n] for square windows; simdnet supports square windows and strides. */
export function squareSize(layer: string, what: string, v: number | [number, number] | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (Array.isArray(v)) {
    if (v.length !== 2 || v[0] !== v[1]) throw new ArgumentError(`layer "${layer}": ${what} must be square, got [${v}]`);
    return positiveInt(layer, what, v[0]);
  }
  return positiveInt(layer, what, v);
}
