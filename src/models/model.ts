// The functional Model: Keras's compile / fit / evaluate / predict / summary over a layer graph.

import { Runtime } from '../kernels/index.js';
import { Activation } from '../layers/activation.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';
import { Tensor } from '../tensor.js';
import { callAll, History, type Callback, type Logs } from '../training/callbacks.js';
import { NonFiniteLossError, type Batch, type StepEngine } from '../training/engine.js';
import { LocalEngine, type ModelCore } from '../training/local-engine.js';
import { ParallelEngine } from '../parallel/parallel-engine.js';
import { availableParallelism } from 'node:os';
import { checkLoss, type LossName } from '../training/losses.js';
import { checkMetrics, countCorrect, type MetricName } from '../training/metrics.js';
import { getOptimizer, type Optimizer } from '../training/optimizers.js';
import { ProgressBar, stdoutSink, type ProgressSink } from '../training/progress.js';
import { permutation, seededRandom } from '../training/random.js';
import { buildFromConfig, graphConfig, type ModelConfig } from './config.js';
import { Graph } from './graph.js';
import { ParamLayout } from './param-layout.js';
import { summaryText } from './summary.js';

export interface ModelArgs {
  inputs: SymbolicTensor;
  outputs: SymbolicTensor;
  name?: string;
  runtime?: Runtime;
}

export interface CompileArgs {
  optimizer: 'adam' | 'sgd' | Optimizer;
  loss: LossName | 'categorical_crossentropy';
  metrics?: string[];
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  validationData?: [Tensor, Tensor];
  callbacks?: Callback | Callback[];
  verbose?: 0 | 1 | 2;
  initialEpoch?: number;
  threads?: number;
  progress?: ProgressSink;
}

export interface EvaluateArgs { batchSize?: number; threads?: number }

const positive = (what: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`simdnet: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
};

export class Model {
  readonly name: string;
  readonly graph: Graph;
  readonly layout: ParamLayout;
  readonly core: ModelCore;
  optimizer?: Optimizer;
  loss?: LossName;
  metrics: MetricName[] = [];
  // Set by a callback to end fit after the current batch (tfjs-layers' model.stopTraining).
  stopTraining = false;
  private engines = new Map<number, StepEngine>();

  constructor(args: ModelArgs) {
    this.name = args.name ?? 'model';
    this.graph = new Graph(args.inputs, args.outputs);
    this.layout = new ParamLayout(this.graph);
    // Each model owns its memory (unless given a runtime), so a dropped model frees all of it.
    const runtime = args.runtime ?? Runtime.create();
    const params = runtime.arena.allocF32(this.layout.totalFloats);
    const outShape = this.graph.nodes[this.graph.outputNode].layer.outputShape;
    if (outShape.length !== 1) {
      throw new Error(`simdnet: the model output must be (batch, classes); got (batch, ${outShape.join(', ')}) — add a Flatten and a Dense layer`);
    }
    const inShape = this.graph.nodes[this.graph.inputNode].layer.outputShape;
    this.core = {
      graph: this.graph, config: graphConfig(this.name, this.graph), layout: this.layout, runtime, params, grads: 0, slots: [], fusedSoftmax: false,
      inputSize: inShape.reduce((a, b) => a * b, 1), outputSize: outShape[0],
    };
    for (const s of this.layout.slots) runtime.f32(params + 4 * s.offset, s.weight.size).set(s.weight.initializer.init(s.weight.fullName, s.weight.shape));
  }

  static fromConfig(config: ModelConfig, runtime?: Runtime): Model {
    const { name, input, output } = buildFromConfig(config);
    return new Model({ inputs: input, outputs: output, name, runtime });
  }

  getConfig(): ModelConfig {
    return graphConfig(this.name, this.graph);
  }

  get layers(): Layer[] { return this.graph.layers; }
  get inputShape(): number[] { return this.graph.nodes[this.graph.inputNode].layer.outputShape; }
  get outputShape(): number[] { return this.graph.nodes[this.graph.outputNode].layer.outputShape; }

  // Whether the model outputs probabilities (a softmax output layer) rather than logits.
  get outputIsSoftmax(): boolean {
    const out = this.graph.nodes[this.graph.outputNode].layer;
    return (out instanceof Dense || out instanceof Conv2D || out instanceof Activation) && out.activation === 'softmax';
  }

  getLayer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new Error(`simdnet: no layer named "${name}" in model "${this.name}"`);
    return l;
  }

  countParams(): number {
    return this.layout.countParams().total;
  }

  // Prints Keras's summary table (unless printFn is null) and returns it.
  summary(args: { lineLength?: number; printFn?: ((s: string) => void) | null } = {}): string {
    const text = summaryText(this.name, this.graph, this.layout, args.lineLength);
    if (args.printFn !== null) (args.printFn ?? console.log)(text);
    return text;
  }

  // Every weight as a copy, keyed "layer/weight" (e.g. "conv1/kernel"), in Keras's order.
  getWeights(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.layout.ordered()) {
      out[s.weight.fullName] = new Tensor(this.core.runtime.download(this.core.params + 4 * s.offset, s.weight.size), [...s.weight.shape]);
    }
    return out;
  }

  // Sets the named weights (any subset); names and sizes must match the model's.
  setWeights(weights: Record<string, Tensor | Float32Array>): void {
    const staged: [number, Float32Array][] = [];
    for (const [name, value] of Object.entries(weights)) {
      const s = this.layout.byName.get(name);
      if (!s) throw new Error(`simdnet: model "${this.name}" has no weight "${name}"`);
      const data = value instanceof Tensor ? value.data : value;
      if (!(data instanceof Float32Array) || data.length !== s.weight.size) {
        throw new Error(`simdnet: weight "${name}" has shape (${s.weight.shape.join(', ')}), ${s.weight.size} values; got ${data?.length}`);
      }
      if (value instanceof Tensor && value.shape.join(',') !== s.weight.shape.join(',')) {
        throw new Error(`simdnet: weight "${name}" has shape (${s.weight.shape.join(', ')}), got (${value.shape.join(', ')})`);
      }
      staged.push([s.offset, data]);
    }
    for (const [offset, data] of staged) this.core.runtime.f32(this.core.params + 4 * offset, data.length).set(data);
  }

  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') throw new Error('simdnet: compile takes {optimizer, loss, metrics}');
    const loss = checkLoss(args.loss);
    const metrics = checkMetrics(args.metrics);
    const optimizer = getOptimizer(args.optimizer);
    const out = this.graph.nodes[this.graph.outputNode].layer;
    const softmaxOut = this.outputIsSoftmax;
    if (loss === 'categoricalCrossentropy' && !softmaxOut) {
      throw new Error(`simdnet: loss "categoricalCrossentropy" needs a softmax output layer, but "${out.name}" is not one; ` +
        'use loss "softmaxCrossEntropy" for a model that outputs logits');
    }
    if (loss === 'softmaxCrossEntropy' && softmaxOut) {
      throw new Error(`simdnet: loss "softmaxCrossEntropy" takes logits, but "${out.name}" applies a softmax; use "categoricalCrossentropy"`);
    }
    const rt = this.core.runtime;
    if (!this.core.grads) this.core.grads = rt.arena.allocF32(this.layout.trainableFloats);
    // Optimizer state starts at zero; vectors are reused when the optimizer keeps their number.
    if (this.core.slots.length !== optimizer.slotNames.length) {
      this.core.slots = optimizer.slotNames.map(() => rt.arena.allocF32(this.layout.trainableFloats));
    }
    for (const p of this.core.slots) rt.k.zero(p, this.layout.trainableFloats);
    this.core.fusedSoftmax = softmaxOut;
    this.optimizer = optimizer;
    this.loss = loss;
    this.metrics = metrics;
  }

  // The optimizer's state vectors (e.g. Adam's m and v), keyed "slot/layer/weight".
  getOptimizerState(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    if (!this.optimizer) return out;
    for (const [k, name] of this.optimizer.slotNames.entries()) {
      for (const s of this.layout.slots) {
        if (!s.weight.trainable) continue;
        out[`${name}/${s.weight.fullName}`] = this.core.runtime.download(this.core.slots[k] + 4 * s.offset, s.weight.size);
      }
    }
    return out;
  }

  setOptimizerState(state: Record<string, Float32Array>, iterations: number): void {
    if (!this.optimizer) throw new Error('simdnet: compile the model before restoring optimizer state');
    for (const [key, data] of Object.entries(state)) {
      const slash = key.indexOf('/');
      const k = this.optimizer.slotNames.indexOf(key.slice(0, slash));
      const s = this.layout.byName.get(key.slice(slash + 1));
      if (k < 0 || !s || !s.weight.trainable || data.length !== s.weight.size) {
        throw new Error(`simdnet: optimizer state "${key}" does not fit this model and optimizer`);
      }
      this.core.runtime.f32(this.core.slots[k] + 4 * s.offset, data.length).set(data);
    }
    this.optimizer.iterations = iterations;
  }

  private engine(threads: number | undefined): StepEngine {
    const n = threads ?? defaultThreads();
    positive('threads', n);
    let e = this.engines.get(n);
    if (!e || e.failed) {
      e = n === 1 ? new LocalEngine(this.core) : new ParallelEngine(this.core, n);
      this.engines.set(n, e);
    }
    return e;
  }

  // Frees the worker threads; the model stays usable.
  async dispose(): Promise<void> {
    const engines = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(engines.map((e) => e.dispose()));
  }

  private checkData(x: Tensor, y: Tensor | undefined, what: string): number {
    if (!(x instanceof Tensor)) throw new Error(`simdnet: ${what}: x must be a Tensor`);
    const want = this.inputShape.join(', ');
    if (x.rank !== this.inputShape.length + 1 || x.shape.slice(1).join(', ') !== want) {
      throw new Error(`simdnet: ${what}: x has shape (${x.shape.join(', ')}), the model takes (N, ${want})`);
    }
    const n = x.shape[0];
    if (n === 0) throw new Error(`simdnet: ${what}: x holds no samples`);
    const bad = firstNonFinite(x.data);
    if (bad >= 0) throw new Error(`simdnet: ${what}: x holds a non-finite value (${x.data[bad]}) at sample ${Math.floor(bad / (x.size / n))}`);
    if (y !== undefined) {
      if (!(y instanceof Tensor)) throw new Error(`simdnet: ${what}: y must be a Tensor`);
      const K = this.outputShape[0];
      if (y.rank !== 2 || y.shape[1] !== K) throw new Error(`simdnet: ${what}: y has shape (${y.shape.join(', ')}), the model outputs (N, ${K}) (one-hot labels)`);
      if (y.shape[0] !== n) throw new Error(`simdnet: ${what}: x has ${n} samples but y has ${y.shape[0]}`);
      const badY = firstNonFinite(y.data);
      if (badY >= 0) throw new Error(`simdnet: ${what}: y holds a non-finite value at sample ${Math.floor(badY / K)}`);
    }
    return n;
  }

  private requireCompiled(what: string): void {
    if (!this.optimizer || !this.loss) throw new Error(`simdnet: ${what} needs a compiled model: call model.compile({optimizer, loss, metrics}) first`);
  }

  private gather(t: Tensor, idx: Uint32Array | null, start: number, rows: number): Float32Array {
    const row = t.size / t.shape[0];
    if (!idx) return t.data.subarray(start * row, (start + rows) * row);
    const out = new Float32Array(rows * row);
    for (let i = 0; i < rows; i++) out.set(t.data.subarray(idx[start + i] * row, (idx[start + i] + 1) * row), i * row);
    return out;
  }

  private logs(loss: number, correct: number, n: number): Logs {
    const logs: Logs = { loss };
    if (this.metrics.includes('accuracy')) logs.accuracy = correct / n;
    return logs;
  }

  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
    this.requireCompiled('fit');
    const n = this.checkData(x, y, 'fit');
    const epochs = positive('epochs', args.epochs ?? 1);
    const batchSize = positive('batchSize', args.batchSize ?? 32);
    const initialEpoch = args.initialEpoch ?? 0;
    const verbose = args.verbose ?? 1;
    const shuffle = args.shuffle ?? true;
    const seed = args.seed ?? 0;
    const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    if (args.validationData) this.checkData(args.validationData[0], args.validationData[1], 'fit validationData');
    const engine = this.engine(args.threads);
    const K = this.outputShape[0];
    const steps = Math.ceil(n / batchSize);
    const history = new History();
    const sink = args.progress ?? stdoutSink;
    this.stopTraining = false;
    await callAll(callbacks, 'onTrainBegin');
    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      const t0 = performance.now();
      if (verbose > 0) sink.write(`Epoch ${epoch + 1}/${epochs}\n`);
      await callAll(callbacks, 'onEpochBegin', epoch);
      // Each epoch's order depends on (seed, epoch) alone, so a resumed run shuffles as an unbroken one.
      const order = shuffle ? permutation(n, seededRandom(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + epoch)) : null;
      const bar = verbose === 1 ? new ProgressBar(steps, sink) : undefined;
      let lossSum = 0, correct = 0, seen = 0;
      for (let b = 0; b < steps; b++) {
        const start = b * batchSize, rows = Math.min(batchSize, n - start);
        await callAll(callbacks, 'onBatchBegin', b, { batch: b, size: rows });
        const batch: Batch = { x: this.gather(x, order, start, rows), y: this.gather(y, order, start, rows), rows };
        const update = this.optimizer!.nextUpdate();
        let r;
        try {
          r = await engine.trainStep(batch, update);
        } catch (err) {
          this.optimizer!.iterations--;
          if (err instanceof NonFiniteLossError) throw new Error(`simdnet: the loss became ${err.message} at epoch ${epoch + 1}, batch ${b + 1}; the trainable weights were left as before that batch (try a lower learning rate)`);
          throw err;
        }
        const right = countCorrect(r.outputs, batch.y!, rows, K);
        lossSum += r.loss * rows;
        correct += right;
        seen += rows;
        bar?.update(b + 1, this.logs(lossSum / seen, correct, seen));
        await callAll(callbacks, 'onBatchEnd', b, { ...this.logs(r.loss, right, rows), size: rows });
        if (this.stopTraining) break;
      }
      const logs = this.logs(lossSum / seen, correct, seen);
      // The epoch's training time, as Keras reports it: validation comes after.
      const seconds = (performance.now() - t0) / 1000;
      if (args.validationData) {
        const v = await this.evaluate(args.validationData[0], args.validationData[1], { batchSize, threads: args.threads });
        for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
      }
      bar?.finish(logs);
      logs.time = seconds;
      if (verbose === 2) sink.write(`${seen}/${n} - ${logs.time.toFixed(0)}s - ${Object.entries(logs).filter(([k]) => k !== 'time').map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}\n`);
      history.record(epoch, logs);
      await callAll(callbacks, 'onEpochEnd', epoch, logs);
    }
    await callAll(callbacks, 'onTrainEnd');
    return history;
  }

  // Loss and metrics in inference mode (moving statistics in batch norm).
  async evaluate(x: Tensor, y: Tensor, args: EvaluateArgs = {}): Promise<Logs> {
    this.requireCompiled('evaluate');
    const n = this.checkData(x, y, 'evaluate');
    const out = await this.predictData(x, args, n);
    const K = this.outputShape[0];
    const { loss, correct } = crossEntropy(out, y.data, n, K, this.core.fusedSoftmax);
    return this.logs(loss, correct, n);
  }

  async predict(x: Tensor, args: EvaluateArgs = {}): Promise<Tensor> {
    const n = this.checkData(x, undefined, 'predict');
    return new Tensor(await this.predictData(x, args, n), [n, this.outputShape[0]]);
  }

  private async predictData(x: Tensor, args: EvaluateArgs, n: number): Promise<Float32Array> {
    const batchSize = positive('batchSize', args.batchSize ?? 32);
    const engine = this.engine(args.threads);
    const K = this.outputShape[0];
    const out = new Float32Array(n * K);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      out.set(await engine.predictStep({ x: this.gather(x, null, start, rows), rows }), start * K);
    }
    return out;
  }

  // One training step on exactly this batch; returns its loss and metrics.
  async trainOnBatch(x: Tensor, y: Tensor, args: { threads?: number } = {}): Promise<Logs> {
    this.requireCompiled('trainOnBatch');
    const n = this.checkData(x, y, 'trainOnBatch');
    const update = this.optimizer!.nextUpdate();
    try {
      const r = await this.engine(args.threads).trainStep({ x: x.data, y: y.data, rows: n }, update);
      return this.logs(r.loss, countCorrect(r.outputs, y.data, n, this.outputShape[0]), n);
    } catch (err) {
      this.optimizer!.iterations--;
      if (err instanceof NonFiniteLossError) throw new Error(`simdnet: the loss became ${err.message}; the trainable weights were left as they were`);
      throw err;
    }
  }

  // The loss and the gradient of every trainable weight on this batch, in training mode (batch
  // statistics; the moving statistics are updated, as a Keras training-mode call does). No
  // weight changes: a custom training loop applies the gradients itself.
  async computeGradients(x: Tensor, y: Tensor, args: { threads?: number } = {}): Promise<{ loss: number; grads: Record<string, Tensor>; predictions: Tensor }> {
    this.requireCompiled('computeGradients');
    const n = this.checkData(x, y, 'computeGradients');
    const r = await this.engine(args.threads).trainStep({ x: x.data, y: y.data, rows: n }, null);
    const grads: Record<string, Tensor> = {};
    for (const s of this.layout.ordered()) {
      if (!s.weight.trainable) continue;
      grads[s.weight.fullName] = new Tensor(this.core.runtime.download(this.core.grads + 4 * s.offset, s.weight.size), [...s.weight.shape]);
    }
    return { loss: r.loss, grads, predictions: new Tensor(r.outputs, [n, this.outputShape[0]]) };
  }
}

export function defaultThreads(): number {
  const env = process.env.SIMDNET_THREADS;
  if (env !== undefined) {
    const v = Number(env);
    if (!Number.isInteger(v) || v < 1) throw new Error(`simdnet: SIMDNET_THREADS must be a positive integer, got "${env}"`);
    return v;
  }
  // Each worker keeps a gradient vector of its own (94 MB for ResNet-50): past 8, more cores
  // would cost more memory than a batch of 32 can use.
  return Math.min(availableParallelism(), 8);
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

// Mean cross-entropy and correct count of outputs (probabilities, or logits when !probs) against labels.
function crossEntropy(out: Float32Array, labels: Float32Array, n: number, K: number, probs: boolean): { loss: number; correct: number } {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * K, (i + 1) * K);
    let logZ = 0;
    if (!probs) {
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      logZ = m + Math.log(s);
    }
    for (let k = 0; k < K; k++) {
      const t = labels[i * K + k];
      if (t === 0) continue;
      // Keras clips probabilities to [1e-7, 1 - 1e-7] before the log.
      const logp = probs ? Math.log(Math.min(Math.max(row[k], 1e-7), 1 - 1e-7)) : row[k] - logZ;
      loss -= t * logp;
    }
  }
  return { loss: loss / n, correct: countCorrect(out, labels, n, K) };
}
