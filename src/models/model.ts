// The functional Model: Keras's compile / fit / evaluate / predict / summary over a layer graph.

import { platform } from '#platform';
import { ISOLATION_NOTE } from './isolation.js';
import { StepGate } from '../engine/step-gate.js';
import { MAX_INPUT_VALUES, MAX_WEIGHTS } from './limits.js';
import { Engine, type Batch } from '../engine/engine.js';
import { buildFromConfig, graphConfig, type ModelConfig } from '../engine/graph-config.js';
import { Graph } from '../engine/graph.js';
import type { ModelCore } from '../engine/model-core.js';
import { ParamLayout } from '../engine/param-layout.js';
import { ArgumentError, describe, NonFiniteLossError, NonFiniteOutputError, WorkerFailure } from '../errors.js';
import { Runtime } from '../kernels/index.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';
import { Tensor } from '../tensor.js';
import { callAll, History, type Callback, type Logs } from '../training/callbacks.js';
import { isDataset, SubsetDataset, TensorDataset, type Dataset } from '../training/dataset.js';
import { getLoss, softmaxRows, type Loss, type LossSpec } from '../training/losses.js';
import { withTemperature } from '../training/calibration.js';
import { checkMetrics, countCorrect, type MetricName } from '../training/metrics.js';
import { getOptimizer, type Optimizer } from '../training/optimizers.js';
import { ProgressBar, stdoutSink, type ProgressSink } from '../training/progress.js';
import { permutation, seededRandom } from '../training/random.js';
import { summaryText } from './summary.js';

/** What `new Model` takes: the functional API's input and output tensors. */
export interface ModelArgs {
  /** The input tensor, from `input({shape})`. Required. */
  inputs: SymbolicTensor;
  /** The output tensor: (batch, classes). Required. */
  outputs: SymbolicTensor;
  /** Default `'model'`. */
  name?: string;
  /** The kernels and memory to use. Default: a new runtime of the model's own, freed with the model. */
  runtime?: Runtime;
  /** Whether to run the weight initializers. Default true. */
  initialize?: boolean;
}

/** Options of Model.compile. */
export interface CompileArgs {
  /** `'adam'`, `'sgd'` (with their defaults) or an optimizer object. Required. */
  optimizer: 'adam' | 'sgd' | Optimizer;
  /** `'categoricalCrossentropy'` (softmax output layer), `'softmaxCrossEntropy'` (logits output) or a loss object. Required. */
  loss: LossSpec;
  /** Metrics to report besides the loss: `['accuracy']`. Default none. */
  metrics?: string[];
}

/** How a step runs: on how many threads, and whether its result may depend on that number. */
export interface RunArgs {
  /** Worker threads that share each batch; 1 runs on the calling thread. Default: SIMDNET_THREADS, or the available cores up to 8. */
  threads?: number;
  /**
   * Results that do not depend on `threads`, to the bit: each batch is cut into a fixed number of
   * shards (true: 4; or a number) whatever the thread count, and every sum is taken in one fixed
   * order. Costs one gradient vector per shard (94 MB each for ResNet-50). Default false: one
   * shard per thread, equal across thread counts up to float rounding.
   */
  deterministic?: boolean | number;
  /**
   * Run every step on worker threads, so that the calling thread stays free while they run (a
   * server answering other requests, a page's UI). Default false: with one thread the steps run
   * on the calling thread, and with several so may a single image's inference, when the engine's
   * first steps measure it faster there than split between the workers.
   */
  offMainThread?: boolean;
}

export interface FitArgs extends RunArgs {
  /** Epochs to train up to (counting initialEpoch). Default 1. */
  epochs?: number;
  /** Samples per gradient step. Default 32. */
  batchSize?: number;
  /** Shuffle the samples every epoch (the order depends on seed and epoch only). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffling and of Dropout's masks. Default 0. */
  seed?: number;
  /** Data evaluated after each epoch (`val_loss`, `val_accuracy`): [x, y] or a dataset. Default none. */
  validationData?: [Tensor, Tensor] | Dataset;
  /** Called at the start and end of training, epochs and batches. Default none. */
  callbacks?: Callback | Callback[];
  /** 0 silent, 1 a progress bar per epoch, 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** The epoch to start at (to resume a run). Default 0. */
  initialEpoch?: number;
  /** Where progress goes. Default stdout. */
  progress?: ProgressSink;
  /** Keras's validationSplit: the last fraction of the data (before shuffling) is held out and evaluated after each epoch. Default 0. */
  validationSplit?: number;
  /**
   * Precise batch norm: recompute every batch-norm layer's moving mean and variance as the
   * average of the statistics of `batches` training batches (read without augmentation, in
   * training mode, no weight changed), so inference-mode accuracy matches training mode's.
   * `true` or 'end': once, after the last epoch; 'epoch': after every epoch (before validation).
   * Default false.
   */
  preciseBatchNorm?: boolean | 'end' | 'epoch';
  /** Batches precise batch norm averages over. Default 50 (or all the data, if less). */
  preciseBatchNormBatches?: number;
}

export interface EvaluateArgs extends RunArgs {
  /** Samples per step. Default 32. */
  batchSize?: number;
}

const positive = (what: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ArgumentError(`${what} must be a positive integer, got ${describe(v)}`);
  return v;
};

const DEFAULT_DETERMINISTIC_SHARDS = 4;
/**
 * Each thread holds a gradient vector and an activation region of its own: past this, threads
 * cost memory and start-up time without a batch that could use them.
 */
export const MAX_THREADS = 64;

/**
 * A model of layers (Keras's functional API): compile, fit, evaluate, predict, summary, save.
 *
 * @example
 * ```js
 * const x = input({ shape: [64, 64, 3] });
 * const y = new Dense({ units: 6, activation: 'softmax' }).apply(new Flatten().apply(x));
 * const model = new Model({ inputs: x, outputs: y });
 * model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * ```
 */
export class Model {
  readonly name: string;
  readonly graph: Graph;
  readonly layout: ParamLayout;
  readonly core: ModelCore;
  optimizer?: Optimizer;
  metrics: MetricName[] = [];
  // The name of each output class, in output order, when known (saved in model files).
  private names?: string[];
  /** Set by a callback to end fit after the current batch (tfjs-layers' model.stopTraining). */
  stopTraining = false;
  private engines = new Map<string, Engine>();
  // Calls that run steps take turns: two at once would share the step buffers.
  private turn: Promise<unknown> = Promise.resolve();
  // Which model's call the current async chain is part of (Node). A page has no such context:
  // there a call made while fit awaits its callbacks runs at once, as no step is under way then.
  private readonly holder = platform.asyncContext<Model>();
  private inCallbacks = 0;

  constructor(args: ModelArgs) {
    this.name = args.name ?? 'model';
    this.graph = new Graph(args.inputs, args.outputs);
    const inputShape = this.graph.inputLayer.outputShape;
    const values = inputShape.reduce((a, b) => a * b, 1);
    if (values > MAX_INPUT_VALUES) {
      throw new ArgumentError(`model "${this.name}" takes inputs of (${inputShape.join(', ')}), ${values.toLocaleString('en-US')} values per sample, ` +
        `over the limit of ${MAX_INPUT_VALUES.toLocaleString('en-US')} (2048 x 2048 x 4)`);
    }
    this.layout = new ParamLayout(this.graph);
    if (this.layout.totalFloats > MAX_WEIGHTS) {
      throw new ArgumentError(`model "${this.name}" has ${this.layout.totalFloats.toLocaleString('en-US')} weights, over the limit of ${MAX_WEIGHTS.toLocaleString('en-US')} (1 GiB of float32)`);
    }
    // Each model owns its memory (unless given a runtime), so a dropped model frees all of it.
    const runtime = args.runtime ?? Runtime.create();
    const outShape = this.graph.outputLayer.outputShape;
    if (outShape.length !== 1) {
      throw new ArgumentError(`the model output must be (batch, classes); got (batch, ${outShape.join(', ')}) — add a Flatten and a Dense layer`);
    }
    let params: number;
    try {
      params = runtime.arena.allocF32(this.layout.totalFloats);
    } catch (err) {
      throw new ArgumentError(`model "${this.name}" has ${this.layout.countParams().total.toLocaleString('en-US')} weights, ` +
        `more than WebAssembly's 4 GiB memory holds (${(err as Error).message.replace(/^simdnet: /, '')})`);
    }
    const inShape = this.graph.inputLayer.outputShape;
    this.core = {
      graph: this.graph, config: graphConfig(this.name, this.graph), layout: this.layout, runtime, params, grads: 0, slots: [],
      inputSize: inShape.reduce((a, b) => a * b, 1), outputSize: outShape[0], gate: new StepGate(),
    };
    if (args.initialize ?? true) {
      for (const s of this.layout.places) runtime.f32(params + 4 * s.offset, s.weight.size).set(s.weight.initializer.init(s.weight.fullName, s.weight.shape));
    }
  }

  /** `initialize: false` leaves the weights at zero (a model whose weights are loaded next). */
  static fromConfig(config: ModelConfig, options: { runtime?: Runtime; initialize?: boolean } = {}): Model {
    const { name, input, output } = buildFromConfig(config);
    return new Model({ inputs: input, outputs: output, name, runtime: options.runtime, initialize: options.initialize });
  }

  get loss(): Loss | undefined { return this.core.loss; }

  /** The name of each class the model outputs, in order. Default: "0", "1", ... */
  private calibration = 1;
  /**
   * The calibration temperature predictProbabilities applies (softmax(logits / T)); predict,
   * evaluate and accuracy are not changed by it. Default 1 (none); `simdnet train` fits it on
   * the validation split and its shifted copies (calibrateTemperature) and model files keep it.
   */
  get temperature(): number { return this.calibration; }
  set temperature(t: number) {
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw new ArgumentError(`temperature must be a positive number, got ${describe(t)}`);
    this.calibration = t;
  }

  get classNames(): string[] {
    return this.names ?? Array.from({ length: this.outputShape[0] }, (_, k) => String(k));
  }

  set classNames(names: string[]) {
    if (!Array.isArray(names) || names.length !== this.outputShape[0] || !names.every((n) => typeof n === 'string' && n.length > 0)) {
      throw new ArgumentError(`classNames must be ${this.outputShape[0]} non-empty names (the model outputs ${this.outputShape[0]} classes), got ${describe(names)}`);
    }
    if (new Set(names).size !== names.length) throw new ArgumentError(`classNames must be distinct, got ${describe(names)}`);
    this.names = [...names];
  }

  /** The architecture (Keras's functional config), which Model.fromConfig rebuilds. */
  getConfig(): ModelConfig {
    return graphConfig(this.name, this.graph);
  }

  get layers(): Layer[] { return this.graph.layers; }
  get inputShape(): number[] { return this.graph.inputLayer.outputShape; }
  get outputShape(): number[] { return this.graph.outputLayer.outputShape; }

  /** Whether the model outputs probabilities (a softmax output layer) rather than logits. */
  get outputIsSoftmax(): boolean {
    return this.graph.outputLayer.outputActivation === 'softmax';
  }

  /** The layer named `name`; refuses a name the model does not have. */
  getLayer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new ArgumentError(`no layer named "${name}" in model "${this.name}"`);
    return l;
  }

  /** The number of weight values, trainable or not. */
  countParams(): number {
    return this.layout.countParams().total;
  }

  /** Prints Keras's summary table (unless printFn is null) and returns it. */
  summary(args: { lineLength?: number; printFn?: ((s: string) => void) | null } = {}): string {
    const text = summaryText(this.name, this.graph, this.layout, args.lineLength);
    if (args.printFn !== null) (args.printFn ?? console.log)(text);
    return text;
  }

  // Synchronous readers and writers of the weights cannot wait for a step under way (its worker
  // threads write the weights meanwhile): they refuse, where a torn copy would be silently wrong.
  private betweenSteps(what: string): void {
    if (this.core.gate.busy) {
      throw new ArgumentError(`${what}: a step of model "${this.name}" is under way (fit, evaluate or predict); call it from a ` +
        'callback of fit or once that call has finished (saveModel, saveOnnx and loadWeights wait for the step by themselves)');
    }
  }

  /** Every weight as a copy, keyed "layer/weight" (e.g. "conv1/kernel"), in Keras's order. */
  getWeights(): Record<string, Tensor> {
    this.betweenSteps('getWeights');
    const out: Record<string, Tensor> = {};
    for (const s of this.layout.ordered()) {
      out[s.weight.fullName] = new Tensor(this.core.runtime.download(this.core.params + 4 * s.offset, s.weight.size), [...s.weight.shape]);
    }
    return out;
  }

  /** Sets the named weights (any subset); names and sizes must match the model's. */
  setWeights(weights: Record<string, Tensor | Float32Array>): void {
    this.betweenSteps('setWeights');
    const staged: [number, Float32Array][] = [];
    for (const [name, value] of Object.entries(weights)) {
      const s = this.layout.byName.get(name);
      if (!s) throw new ArgumentError(`model "${this.name}" has no weight "${name}"`);
      const data = value instanceof Tensor ? value.data : value;
      if (!(data instanceof Float32Array) || data.length !== s.weight.size) {
        throw new ArgumentError(`weight "${name}" has shape (${s.weight.shape.join(', ')}), ${s.weight.size} values; got ${data?.length}`);
      }
      if (value instanceof Tensor && value.shape.join(',') !== s.weight.shape.join(',')) {
        throw new ArgumentError(`weight "${name}" has shape (${s.weight.shape.join(', ')}), got (${value.shape.join(', ')})`);
      }
      const bad = this.core.runtime.firstNonFinite(data);
      if (bad >= 0) throw new ArgumentError(`weight "${name}" holds a non-finite value (${data[bad]}) at index ${bad}`);
      staged.push([s.offset, data]);
    }
    for (const [offset, data] of staged) this.core.runtime.f32(this.core.params + 4 * offset, data.length).set(data);
  }

  /** Sets the optimizer, the loss and the metrics, as Keras's compile. */
  compile(args: CompileArgs): void {
    this.betweenSteps('compile');
    if (!args || typeof args !== 'object') throw new ArgumentError('compile takes {optimizer, loss, metrics}');
    const loss = getLoss(args.loss);
    const metrics = checkMetrics(args.metrics);
    const optimizer = getOptimizer(args.optimizer);
    const out = this.graph.outputLayer;
    const softmaxOut = this.outputIsSoftmax;
    if (!loss.fromLogits && !softmaxOut) {
      throw new ArgumentError(`loss "${loss.name ?? loss.className}" needs a softmax output layer, but "${out.name}" is not one; ` +
        'use loss "softmaxCrossEntropy" (or fromLogits: true) for a model that outputs logits');
    }
    if (loss.fromLogits && softmaxOut) {
      throw new ArgumentError(`loss "${loss.name ?? loss.className}" takes logits, but "${out.name}" applies a softmax; use "categoricalCrossentropy"`);
    }
    const rt = this.core.runtime;
    if (!this.core.grads) this.core.grads = rt.arena.allocF32(this.layout.trainableFloats);
    // Optimizer state starts at zero; vectors are reused when the optimizer keeps their number.
    if (this.core.slots.length !== optimizer.slotNames.length) {
      for (const p of this.core.slots) rt.arena.free(p);
      this.core.slots = optimizer.slotNames.map(() => rt.arena.allocF32(this.layout.trainableFloats));
    }
    for (const p of this.core.slots) rt.k.zero(p, this.layout.trainableFloats);
    this.core.loss = loss;
    this.optimizer = optimizer;
    this.metrics = metrics;
  }

  /** The optimizer's state vectors (e.g. Adam's m and v), keyed "slot/layer/weight". */
  getOptimizerState(): Record<string, Float32Array> {
    this.betweenSteps('getOptimizerState');
    const out: Record<string, Float32Array> = {};
    if (!this.optimizer) return out;
    for (const [k, name] of this.optimizer.slotNames.entries()) {
      for (const s of this.layout.places) {
        if (!s.weight.trainable) continue;
        out[`${name}/${s.weight.fullName}`] = this.core.runtime.download(this.core.slots[k] + 4 * s.offset, s.weight.size);
      }
    }
    return out;
  }

  /** Restores an optimizer state of getOptimizerState (a resumed run), at step `iterations`. */
  setOptimizerState(state: Record<string, Float32Array>, iterations: number): void {
    this.betweenSteps('setOptimizerState');
    if (!this.optimizer) throw new ArgumentError('compile the model before restoring optimizer state');
    for (const [key, data] of Object.entries(state)) {
      const slash = key.indexOf('/');
      const k = this.optimizer.slotNames.indexOf(key.slice(0, slash));
      const s = this.layout.byName.get(key.slice(slash + 1));
      if (k < 0 || !s || !s.weight.trainable || data.length !== s.weight.size) {
        throw new ArgumentError(`optimizer state "${key}" does not fit this model and optimizer`);
      }
      const bad = this.core.runtime.firstNonFinite(data);
      if (bad >= 0) throw new ArgumentError(`optimizer state "${key}" holds a non-finite value (${data[bad]}) at index ${bad}`);
      this.core.runtime.f32(this.core.slots[k] + 4 * s.offset, data.length).set(data);
    }
    this.optimizer.iterations = iterations;
  }

  /**
   * Runs `fn` once the model's earlier calls have finished. A call made from inside one (a
   * callback of fit calling predict) runs at once: it is part of the call that holds the turn.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holder ? this.holder.getStore() === this : this.inCallbacks > 0) return fn();
    const run = this.turn.then(() => (this.holder ? this.holder.run(this, fn) : fn()));
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async callbacks(list: Callback[], event: keyof Callback, ...args: unknown[]): Promise<void> {
    this.inCallbacks++;
    try {
      await callAll(list, event, ...args);
    } finally {
      this.inCallbacks--;
    }
  }

  private engine(args: RunArgs): Engine {
    const threads = usableThreads(positive('threads', args.threads ?? defaultThreads()));
    if (threads > MAX_THREADS) throw new ArgumentError(`threads must be at most ${MAX_THREADS}, got ${threads}`);
    const d = args.deterministic ?? false;
    if (typeof d !== 'boolean') positive('deterministic (shards)', d);
    const shards = d === true ? DEFAULT_DETERMINISTIC_SHARDS : d === false ? 0 : d;
    const offMainThread = args.offMainThread ?? false;
    const key = `${threads}:${shards}${offMainThread ? ':off' : ''}`;
    let e = this.engines.get(key);
    if (!e || e.failed) {
      e = new Engine(this.core, { threads, shards, offMainThread });
      this.engines.set(key, e);
    }
    return e;
  }

  /**
   * Frees the worker threads and the memory of their steps (after any call under way); the model
   * stays usable.
   */
  async dispose(): Promise<void> {
    return this.exclusive(async () => {
      const engines = [...this.engines.values()];
      this.engines.clear();
      await Promise.all(engines.map((e) => e.dispose()));
    });
  }

  // The data as a dataset, after checking it fits the model: shapes, finite values (but x's when
  // the engine checks them: `xCheckedInStep`), labels.
  private checkData(x: Tensor | Dataset, y: Tensor | undefined, what: string, needLabels: boolean, xCheckedInStep = false): Dataset {
    const want = this.inputShape.join(', ');
    const K = this.outputShape[0];
    if (isDataset(x)) {
      if (x.sampleShape.join(', ') !== want) throw new ArgumentError(`${what}: the dataset holds samples of (${x.sampleShape.join(', ')}), the model takes (${want})`);
      if (x.size === 0) throw new ArgumentError(`${what}: the dataset holds no samples`);
      if (needLabels && x.classes !== K) throw new ArgumentError(`${what}: the dataset has ${x.classes} classes, the model outputs ${K}`);
      return x;
    }
    if (!(x instanceof Tensor)) throw new ArgumentError(`${what}: x must be a Tensor or a dataset`);
    if (x.rank !== this.inputShape.length + 1 || x.shape.slice(1).join(', ') !== want) {
      throw new ArgumentError(`${what}: x has shape (${x.shape.join(', ')}), the model takes (N, ${want})`);
    }
    const n = x.shape[0];
    if (n === 0) throw new ArgumentError(`${what}: x holds no samples`);
    const bad = xCheckedInStep ? -1 : this.core.runtime.firstNonFinite(x.data);
    if (bad >= 0) throw nonFiniteX(what, x, bad);
    if (needLabels && y === undefined) throw new ArgumentError(`${what}: labels y are needed`);
    if (y !== undefined) {
      if (!(y instanceof Tensor)) throw new ArgumentError(`${what}: y must be a Tensor`);
      if (y.rank !== 2 || y.shape[1] !== K) throw new ArgumentError(`${what}: y has shape (${y.shape.join(', ')}), the model outputs (N, ${K}) (one-hot labels)`);
      if (y.shape[0] !== n) throw new ArgumentError(`${what}: x has ${n} samples but y has ${y.shape[0]}`);
      const badY = this.core.runtime.firstNonFinite(y.data);
      if (badY >= 0) throw new ArgumentError(`${what}: y holds a non-finite value at sample ${Math.floor(badY / K)}`);
      for (let i = 0; i < y.data.length; i++) {
        if (y.data[i] < 0 || y.data[i] > 1) throw new ArgumentError(`${what}: y holds ${y.data[i]} at sample ${Math.floor(i / K)}; labels are one-hot (or probabilities) in [0, 1]`);
      }
    }
    return new TensorDataset(x, y);
  }

  private requireCompiled(what: string): void {
    if (!this.optimizer || !this.core.loss) throw new ArgumentError(`${what} needs a compiled model: call model.compile({optimizer, loss, metrics}) first`);
  }

  private logs(loss: number, correct: number, n: number): Logs {
    const logs: Logs = { loss };
    if (this.metrics.includes('accuracy')) logs.accuracy = correct / n;
    return logs;
  }

  /** Keras's fit(x, y) on tensors, or fit(dataset) on a dataset (uint8 images, say). */
  fit(x: Tensor, y: Tensor, args?: FitArgs): Promise<History>;
  fit(data: Dataset, args?: FitArgs): Promise<History>;
  async fit(x: Tensor | Dataset, yOrArgs?: Tensor | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    const [data, args] = isDataset(x) ? [x, (yOrArgs ?? {}) as FitArgs] : [x, maybeArgs ?? {}];
    return this.exclusive(async () => {
      this.requireCompiled('fit');
      let set = this.checkData(data, isDataset(x) ? undefined : (yOrArgs as Tensor), 'fit', true);
      let split: Dataset | undefined;
      if (args.validationSplit !== undefined && args.validationSplit !== 0) {
        const v = args.validationSplit;
        if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new ArgumentError(`validationSplit must be a number between 0 and 1, got ${describe(v)}`);
        const cut = set.size - Math.round(set.size * v);
        if (cut < 1 || cut >= set.size) throw new ArgumentError(`validationSplit ${v} leaves no ${cut < 1 ? 'training' : 'validation'} samples of ${set.size}`);
        const all = identity(set.size);
        split = new SubsetDataset(set, all.subarray(cut));
        set = new SubsetDataset(set, all.subarray(0, cut));
      }
      const n = set.size;
      const epochs = positive('epochs', args.epochs ?? 1);
      const batchSize = positive('batchSize', args.batchSize ?? 32);
      const initialEpoch = args.initialEpoch ?? 0;
      if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new ArgumentError(`initialEpoch must be a whole number >= 0, got ${describe(initialEpoch)}`);
      const verbose = args.verbose ?? 1;
      const shuffle = args.shuffle ?? true;
      const seed = args.seed ?? 0;
      const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
      const validation = split ?? (args.validationData === undefined ? undefined : Array.isArray(args.validationData)
        ? this.checkData(args.validationData[0], args.validationData[1], 'fit validationData', true)
        : this.checkData(args.validationData, undefined, 'fit validationData', true));
      const precise = args.preciseBatchNorm === true ? 'end' : args.preciseBatchNorm || undefined;
      if (precise !== undefined && precise !== 'end' && precise !== 'epoch') throw new ArgumentError(`preciseBatchNorm must be true, 'end' or 'epoch', got ${describe(args.preciseBatchNorm)}`);
      const preciseBatches = args.preciseBatchNormBatches ?? 50;
      for (const cb of callbacks) cb.setModel?.(this);
      const engine = this.engine(args);
      const K = this.outputShape[0];
      const steps = Math.ceil(n / batchSize);
      const history = new History();
      const sink = args.progress ?? stdoutSink;
      // Two batch buffers: the next batch is read while the workers run this one.
      const buffers = [0, 1].map(() => ({ x: new Float32Array(Math.min(batchSize, n) * this.core.inputSize), y: new Float32Array(Math.min(batchSize, n) * K) }));
      this.stopTraining = false;
      await this.callbacks(callbacks, 'onTrainBegin');
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        const t0 = performance.now();
        if (verbose > 0) sink.write(`Epoch ${epoch + 1}/${epochs}\n`);
        await this.callbacks(callbacks, 'onEpochBegin', epoch);
        // Each epoch's order depends on (seed, epoch) alone, so a resumed run shuffles as an unbroken one.
        const order = shuffle ? permutation(n, seededRandom(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + epoch)) : identity(n);
        const bar = verbose === 1 ? new ProgressBar(steps, sink) : undefined;
        let lossSum = 0, correct = 0, seen = 0;
        const readBatch = (b: number): Batch => {
          const start = b * batchSize, rows = Math.min(batchSize, n - start), buf = buffers[b % 2];
          const batch: Batch = { x: buf.x.subarray(0, rows * this.core.inputSize), y: buf.y.subarray(0, rows * K), rows };
          set.read(order.subarray(start, start + rows), batch.x, batch.y, { epoch, seed, training: true });
          return batch;
        };
        let next: Batch | undefined = readBatch(0);
        for (let b = 0; b < steps; b++) {
          const batch = next!, rows = batch.rows;
          await this.callbacks(callbacks, 'onBatchBegin', b, { batch: b, size: rows });
          // The step copies the batch into the model's memory before its first await: the next
          // batch is read (and augmented) on this thread while the workers run this one.
          const pending = this.step(engine, batch, seed, `at epoch ${epoch + 1}, batch ${b + 1}`);
          let readError: unknown;
          try {
            next = b + 1 < steps ? readBatch(b + 1) : undefined;
          } catch (err) {
            readError = err;
          }
          const r = await pending;
          if (readError !== undefined) throw readError;
          const right = countCorrect(r.outputs, batch.y!, rows, K);
          lossSum += r.loss * rows;
          correct += right;
          seen += rows;
          bar?.update(b + 1, this.logs(lossSum / seen, correct, seen));
          await this.callbacks(callbacks, 'onBatchEnd', b, { ...this.logs(r.loss, right, rows), size: rows });
          // A step on the calling thread never waits for I/O: give timers and signals a turn.
          await platform.yieldToEventLoop();
          if (this.stopTraining) break;
        }
        const logs = this.logs(lossSum / seen, correct, seen);
        // The epoch's training time, as Keras reports it: validation comes after.
        const seconds = (performance.now() - t0) / 1000;
        const last = epoch === epochs - 1 || this.stopTraining;
        if (precise === 'epoch' || (precise === 'end' && last)) {
          await this.preciseStatistics(set, { batchSize, batches: preciseBatches, threads: args.threads, deterministic: args.deterministic });
        }
        if (validation) {
          const v = await this.evaluateSet(validation, { batchSize, threads: args.threads, deterministic: args.deterministic });
          for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
        }
        bar?.finish(logs);
        logs.time = seconds;
        if (verbose === 2) sink.write(`${seen}/${n} - ${logs.time.toFixed(0)}s - ${Object.entries(logs).filter(([k]) => k !== 'time').map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}\n`);
        history.record(epoch, logs);
        await this.callbacks(callbacks, 'onEpochEnd', epoch, logs);
      }
      await this.callbacks(callbacks, 'onTrainEnd');
      return history;
    });
  }

  /**
   * Precise batch norm (fit's preciseBatchNorm): every batch-norm layer's moving statistics become
   * the average of the batch statistics of `batches` batches of `data`, read as evaluation reads
   * them; no weight changes.
   */
  async recomputeBatchNormStatistics(data: Tensor | Dataset, args: EvaluateArgs & { batches?: number } = {}): Promise<void> {
    return this.exclusive(() => this.preciseStatistics(this.checkData(data, undefined, 'recomputeBatchNormStatistics', false), args));
  }

  private async preciseStatistics(set: Dataset, args: EvaluateArgs & { batches?: number }): Promise<void> {
    const batchSize = positive('batchSize', args.batchSize ?? 32);
    const batches = Math.min(positive('batches', args.batches ?? 50), Math.floor(set.size / batchSize) || 1);
    const engine = this.engine(args);
    const F = this.core.inputSize;
    const rows = Math.min(batchSize, set.size);
    const x = new Float32Array(rows * F);
    const order = identity(set.size);
    for (let b = 0; b < batches; b++) {
      set.read(order.subarray(b * rows, (b + 1) * rows), x, undefined, { epoch: 0, seed: 0, training: false });
      // moving = (1 - 1/t) moving + (1/t) batch: after t batches, the average of their statistics.
      await engine.statisticsStep({ x, rows }, 1 - 1 / (b + 1));
    }
  }

  // One optimizer step: the optimizer's step counter counts only steps that were applied.
  private async step(engine: Engine, batch: Batch, seed: number, where: string) {
    const update = this.optimizer!.nextUpdate();
    // Dropout's masks: a function of the seed and the step number.
    batch.step = (Math.imul(seed, 0x2545f491) + this.optimizer!.iterations) >>> 0;
    try {
      return await engine.trainStep(batch, update);
    } catch (err) {
      if (!(err instanceof WorkerFailure && err.stepApplied)) this.optimizer!.iterations--;
      if (err instanceof NonFiniteLossError) throw new NonFiniteLossError(err.loss, where);
      throw err;
    }
  }

  /** Loss and metrics in inference mode (moving statistics in batch norm). */
  evaluate(x: Tensor, y: Tensor, args?: EvaluateArgs): Promise<Logs>;
  evaluate(data: Dataset, args?: EvaluateArgs): Promise<Logs>;
  async evaluate(x: Tensor | Dataset, yOrArgs?: Tensor | EvaluateArgs, maybeArgs?: EvaluateArgs): Promise<Logs> {
    const args = (isDataset(x) ? yOrArgs : maybeArgs) as EvaluateArgs | undefined ?? {};
    return this.exclusive(async () => {
      this.requireCompiled('evaluate');
      return this.evaluateSet(this.checkData(x, isDataset(x) ? undefined : (yOrArgs as Tensor), 'evaluate', true), args);
    });
  }

  private async evaluateSet(set: Dataset, args: EvaluateArgs): Promise<Logs> {
    const { out, labels } = await this.predictData(set, args, true);
    const n = set.size, K = this.outputShape[0];
    return this.logs(this.core.loss!.evaluate(out, labels!, n, K), countCorrect(out, labels!, n, K), n);
  }

  /** The model's outputs: probabilities for a softmax output layer, logits otherwise. */
  async predict(x: Tensor | Dataset, args: EvaluateArgs = {}): Promise<Tensor> {
    return this.exclusive(async () => {
      const set = this.checkData(x, undefined, 'predict', false);
      return new Tensor((await this.predictData(set, args, false)).out, [set.size, this.outputShape[0]]);
    });
  }

  /** Class probabilities, whether the model ends in a softmax or outputs logits. */
  async predictProbabilities(x: Tensor | Dataset, args: EvaluateArgs = {}): Promise<Tensor> {
    const out = await this.predict(x, args);
    return new Tensor(this.probabilitiesOf(out.data), out.shape);
  }

  /**
   * Rows of the model's outputs (predict's) as class probabilities: softmax of logits, then the
   * calibration temperature (`temperature`, 1 by default: unchanged). What predictProbabilities
   * and the server's classify give.
   */
  probabilitiesOf(outputs: Float32Array, temperature = this.temperature): Float32Array {
    const K = this.outputShape[0];
    return withTemperature(this.outputIsSoftmax ? outputs : softmaxRows(outputs, K), K, temperature);
  }

  // Inference over a whole dataset, batch by batch; with `withLabels`, its labels too.
  private async predictData(set: Dataset, args: EvaluateArgs, withLabels: boolean): Promise<{ out: Float32Array; labels?: Float32Array }> {
    const batchSize = positive('batchSize', args.batchSize ?? 32);
    const engine = this.engine(args);
    const n = set.size, K = this.outputShape[0], F = this.core.inputSize;
    const out = new Float32Array(n * K);
    const labels = withLabels ? new Float32Array(n * K) : undefined;
    const order = identity(n);
    const xb = new Float32Array(Math.min(batchSize, n) * F);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      set.read(order.subarray(start, start + rows), xb.subarray(0, rows * F), labels?.subarray(start * K, (start + rows) * K), { epoch: 0, seed: 0, training: false });
      out.set(await engine.predictStep({ x: xb.subarray(0, rows * F), rows }), start * K);
    }
    const bad = this.core.runtime.firstNonFinite(out);
    if (bad >= 0) {
      throw new NonFiniteOutputError(`the model's output is ${out[bad]} for sample ${Math.floor(bad / K)}: its weights or that input are out of range`);
    }
    return { out, labels };
  }

  /** One training step on exactly this batch; returns its loss and metrics. */
  async trainOnBatch(x: Tensor, y: Tensor, args: RunArgs & { seed?: number } = {}): Promise<Logs> {
    return this.exclusive(async () => {
      this.requireCompiled('trainOnBatch');
      const n = this.checkData(x, y, 'trainOnBatch', true, true).size;
      // x's NaN check runs on the engine's copy of the batch: a check here would cost a second
      // pass over the batch every step (a few percent of a ConvNet step).
      const batch = { x: x.data, y: y.data, rows: n, rejectNonFinite: (bad: number) => nonFiniteX('trainOnBatch', x, bad) };
      const r = await this.step(this.engine(args), batch, args.seed ?? 0, 'in trainOnBatch');
      return this.logs(r.loss, countCorrect(r.outputs, y.data, n, this.outputShape[0]), n);
    });
  }

  /**
   * The loss and the gradient of every trainable weight on this batch, in training mode (batch
   * statistics; the moving statistics are updated, as a Keras training-mode call does). No
   * weight changes: a custom training loop applies the gradients itself.
   */
  async computeGradients(x: Tensor, y: Tensor, args: RunArgs = {}): Promise<{ loss: number; grads: Record<string, Tensor>; predictions: Tensor }> {
    return this.exclusive(async () => {
      this.requireCompiled('computeGradients');
      const n = this.checkData(x, y, 'computeGradients', true).size;
      let r;
      try {
        r = await this.engine(args).trainStep({ x: x.data, y: y.data, rows: n, step: this.optimizer!.iterations }, null);
      } catch (err) {
        if (err instanceof NonFiniteLossError) throw new NonFiniteLossError(err.loss, 'in computeGradients');
        throw err;
      }
      const grads: Record<string, Tensor> = {};
      for (const s of this.layout.ordered()) {
        if (!s.weight.trainable) continue;
        grads[s.weight.fullName] = new Tensor(this.core.runtime.download(this.core.grads + 4 * s.offset, s.weight.size), [...s.weight.shape]);
      }
      return { loss: r.loss, grads, predictions: new Tensor(r.outputs, [n, this.outputShape[0]]) };
    });
  }
}

function nonFiniteX(what: string, x: Tensor, bad: number): ArgumentError {
  return new ArgumentError(`${what}: x holds a non-finite value (${x.data[bad]}) at sample ${Math.floor(bad / (x.size / x.shape[0]))}`);
}

// A page that is not cross-origin isolated cannot share memory with workers: one thread, and a
// warning the first time (never silently).
let warnedIsolation = false;
function usableThreads(threads: number): number {
  if (threads === 1 || platform.canShareMemory()) return threads;
  if (!warnedIsolation) console.warn(`simdnet: ${ISOLATION_NOTE}`);
  warnedIsolation = true;
  return 1;
}

export function defaultThreads(): number {
  if (!platform.canShareMemory()) return 1;
  const env = platform.setting('SIMDNET_THREADS');
  if (env !== undefined) {
    const v = Number(env);
    if (!Number.isInteger(v) || v < 1 || v > MAX_THREADS) throw new ArgumentError(`SIMDNET_THREADS must be a whole number from 1 to ${MAX_THREADS}, got "${env}"`);
    return v;
  }
  // Each worker keeps a gradient vector of its own (94 MB for ResNet-50): past 8, more cores
  // would cost more memory than a batch of 32 can use.
  return Math.min(platform.cores(), 8);
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

