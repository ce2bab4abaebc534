// Runs every step on the calling thread, over the whole batch.

import type { KernelExports, Runtime } from '../kernels/index.js';
import { Executor, singleWorker } from '../models/executor.js';
import type { Graph } from '../models/graph.js';
import type { ModelConfig } from '../models/config.js';
import type { ParamLayout } from '../models/param-layout.js';
import { planStep } from '../models/step-plan.js';
import { NonFiniteLossError, type Batch, type StepEngine, type TrainResult } from './engine.js';
import { applyUpdate, type OptimizerUpdate } from './optimizers.js';

// The parts of a model that engines work on: its graph and its memory.
export interface ModelCore {
  readonly graph: Graph;
  readonly config: ModelConfig;  // to rebuild the graph in worker threads
  readonly layout: ParamLayout;
  readonly runtime: Runtime;
  readonly params: number;       // byte offset of the parameter vector
  grads: number;                 // byte offset of the (reduced) gradient vector, 0 before compile
  slots: number[];               // optimizer state vectors
  fusedSoftmax: boolean;         // the loss reads the logits of a softmax output layer
  readonly inputSize: number;    // features per sample
  readonly outputSize: number;   // outputs per sample
}

// The non-trainable weights (batch norm's moving statistics), which a training forward pass
// changes: saved before each step into one reused buffer, restored when the step is abandoned.
export class NonTrainableSnapshot {
  private readonly saved: Float32Array;
  private readonly at: number;

  constructor(private readonly core: ModelCore) {
    const p = core.layout;
    this.at = core.params + 4 * p.trainableFloats;
    this.saved = new Float32Array(p.totalFloats - p.trainableFloats);
  }

  save(): void {
    this.saved.set(this.core.runtime.f32(this.at, this.saved.length));
  }

  restore(): void {
    this.core.runtime.f32(this.at, this.saved.length).set(this.saved);
  }
}

export interface LocalEngineOptions {
  kernels?: KernelExports;                               // e.g. a timing proxy (the profiler)
  trace?: (node: number, backward: boolean) => void;     // called before each layer runs
}

export class LocalEngine implements StepEngine {
  readonly threads = 1;
  private readonly k: KernelExports;
  private readonly executors = new Map<string, Executor>();
  private region = 0;
  private regionBytes = 0;
  private labels = 0;
  private probs = 0;
  private labelRows = 0;

  private readonly snapshot: NonTrainableSnapshot;

  constructor(private readonly core: ModelCore, private readonly options: LocalEngineOptions = {}) {
    this.k = options.kernels ?? core.runtime.k;
    this.snapshot = new NonTrainableSnapshot(core);
  }

  private executor(rows: number, training: boolean): Executor {
    const key = `${rows}:${training}`;
    let ex = this.executors.get(key);
    if (!ex) {
      const plan = planStep(this.core.graph, rows, training);
      const rt = this.core.runtime;
      if (plan.bytes > this.regionBytes) {
        // Regions only grow: a smaller batch (the last of an epoch) reuses the larger region.
        this.region = rt.arena.alloc(plan.bytes);
        this.regionBytes = plan.bytes;
        this.executors.clear();
      }
      ex = new Executor(this.core.graph, this.core.layout, plan, this.k,
        { region: this.region, params: this.core.params, grads: training ? this.core.grads : 0, gemmWorkspace: rt.gemmWorkspace },
        { totalRows: rows, reducer: singleWorker, updatesSharedState: true, trace: this.options.trace });
      this.executors.set(key, ex);
    }
    return ex;
  }

  private labelBuffers(rows: number): void {
    if (rows <= this.labelRows) return;
    const n = rows * this.core.outputSize;
    this.labels = this.core.runtime.arena.allocF32(n);
    this.probs = this.core.runtime.arena.allocF32(n);
    this.labelRows = rows;
  }

  async trainStep(batch: Batch, update: OptimizerUpdate | null): Promise<TrainResult> {
    const { runtime: rt, outputSize: K } = this.core;
    if (!this.core.grads) throw new Error('simdnet: compile the model before training it');
    const ex = this.executor(batch.rows, true);
    rt.f32(ex.inputPtr, batch.x.length).set(batch.x);
    // The forward pass updates the moving statistics: keep them, to undo a step whose loss is not finite.
    this.snapshot.save();
    ex.forward();
    this.labelBuffers(batch.rows);
    rt.f32(this.labels, batch.rows * K).set(batch.y!);
    const logits = this.core.fusedSoftmax ? ex.logitsPtr : ex.outputPtr;
    const loss = this.k.softmax_xent(logits, this.labels, batch.rows, K, 1 / batch.rows, this.probs, ex.outputGradPtr);
    if (!Number.isFinite(loss)) {
      this.snapshot.restore();
      throw new NonFiniteLossError(loss);
    }
    // The output buffer is free for reuse once the loss has read it.
    const outputs = rt.download(ex.outputPtr, batch.rows * K);
    ex.backward(this.core.fusedSoftmax);
    if (update) {
      applyUpdate(this.k, update, this.core.params, this.core.grads, this.core.slots, this.core.layout.trainableFloats);
    }
    return { loss, outputs };
  }

  async predictStep(batch: Batch): Promise<Float32Array> {
    const ex = this.executor(batch.rows, false);
    const rt = this.core.runtime;
    rt.f32(ex.inputPtr, batch.x.length).set(batch.x);
    ex.forward();
    return rt.download(ex.outputPtr, batch.rows * this.core.outputSize);
  }

  async dispose(): Promise<void> {
    this.executors.clear();
  }
}
