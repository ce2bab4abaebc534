// Runs training and inference steps over the model's shared memory, on the calling thread or on
// a pool of piscina workers. Either way each thread runs the same shard step (shard-step.ts);
// this class lays out the step's shared buffers, hands out the threads' shares, and turns a
// failure into an error that leaves the model either exactly as before the step or exactly as
// after it.
//
// Shards: one per thread, or, in deterministic mode, a fixed number whatever the thread count,
// each thread taking whole shards. Batch-norm sums, the loss and the gradients are combined in
// shard order, so a deterministic step gives the same bits on 1, 2 or 4 threads.

import { platform } from '#platform';
import { ArgumentError, NonFiniteLossError, WorkerFailure } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';
import { useGemmBlocking } from '../kernels/gemm-blocking.js';
import type { WorkerPool } from '../platform/platform.js';
import { serializeLoss } from '../training/losses.js';
import type { OptimizerUpdate } from '../training/optimizers.js';
import { Barrier, BARRIER_WORDS } from './barrier.js';
import { NonTrainableSnapshot, type ModelCore } from './model-core.js';
import { StepProgress, type EngineLayout, type StepReply, type StepTask } from './protocol.js';
import { lossScratchBytes, runShardStep, updateSlice, STAGED_VECTORS, UPDATE_CHUNK, type ShardThread } from './shard-step.js';
import { shardsOf, threadsFor } from './sharding.js';
import { SingleImagePathChooser, type SingleImagePath } from './single-image-path.js';
import { planStep } from './step-plan.js';

export interface Batch {
  x: Float32Array;      // rows x input features
  y?: Float32Array;     // rows x classes (training)
  rows: number;
  step?: number;        // the training step's number (seeds Dropout); 0 if not given
  /**
   * When given, x is checked for NaN and infinity on its copy in the shared memory, before any
   * thread starts (one pass, where a check beforehand would copy the batch once more), and the
   * first one found (its index in x) is reported by throwing what this returns.
   */
  rejectNonFinite?: (index: number) => Error;
}

export interface TrainResult {
  loss: number;          // mean over the batch
  outputs: Float32Array; // the model outputs (rows x classes), copied out
}

export interface EngineOptions {
  /** Threads: 1 runs on the calling thread, more start a pool of workers. */
  threads: number;
  /** Deterministic mode's shard count (results then do not depend on `threads`); 0 for one shard per thread. */
  shards?: number;
  /** Calling thread only: kernels to use instead of the model's (the profiler's timers). */
  kernels?: KernelExports;
  /** Calling thread only: called before each layer runs. */
  trace?: (node: number, backward: boolean) => void;
  /** Run one thread on a worker too, leaving the calling thread free. */
  offMainThread?: boolean;
  /**
   * Inference steps fold batch norm, a residual add and a ReLU after a convolution into its
   * output pass (Graph.inferenceEpilogues). Default true; SIMDNET_FUSE_EPILOGUES=0 turns it off.
   */
  fuseEpilogues?: boolean;
  /**
   * Inference on one image with several threads splits each convolution's output channels between
   * them (else one thread runs it). Default true; SIMDNET_SPLIT_SINGLE_IMAGES=0 turns it off.
   */
  splitSingleImages?: boolean;
  /**
   * Where a pool engine runs inference on one image: 'calling' (the calling thread), 'pool' (the
   * workers, split between them by splitSingleImages) or 'auto' (the first few such steps measure
   * both, the rest take the faster; the bits are the same). Default 'auto'; with offMainThread
   * always 'pool'.
   */
  singleImagePath?: 'auto' | SingleImagePath;
}

const DEFAULT_BARRIER_TIMEOUT_MS = 60_000;

// Names an engine and each of its layouts for the workers (which rebuild their state when it
// changes): unique within the process or page, which is all they need.
let made = 0;
const uniqueId = () => `${++made}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

function barrierTimeout(): number {
  const env = platform.setting('SIMDNET_BARRIER_TIMEOUT_MS');
  if (env === undefined) return DEFAULT_BARRIER_TIMEOUT_MS;
  const v = Number(env);
  if (!Number.isFinite(v) || v <= 0) throw new ArgumentError(`SIMDNET_BARRIER_TIMEOUT_MS must be a positive number, got "${env}"`);
  return v;
}

// A setting that is on unless set to 0.
function onOffSetting(name: string): boolean {
  const env = platform.setting(name);
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  throw new ArgumentError(`${name} must be 0 or 1, got "${env}"`);
}

export class Engine {
  readonly threads: number;
  readonly shards: number;
  readonly deterministic: boolean;
  readonly fuseEpilogues: boolean;
  readonly splitSingleImages: boolean;
  pool?: WorkerPool<StepTask, StepReply>;
  /** Set once a worker died: the pool is gone and the model must make a new engine. */
  failed = false;
  private readonly id = uniqueId();
  private layout?: EngineLayout;
  private blocks: number[] = [];
  private readonly snapshot: NonTrainableSnapshot;
  private readonly inline?: ShardThread;
  // A pool engine's calling thread, for single images (singleImagePath).
  private readonly callingThread?: ShardThread;
  private readonly singleImages: SingleImagePathChooser | SingleImagePath;
  /** Threads the last step ran on, whether it split one image's layers between them, and whether it ran on the calling thread. */
  lastStep = { threads: 0, split: false, callingThread: false };

  constructor(private readonly core: ModelCore, options: EngineOptions) {
    this.threads = options.threads;
    this.deterministic = Boolean(options.shards);
    this.shards = options.shards || options.threads;
    this.fuseEpilogues = options.fuseEpilogues ?? onOffSetting('SIMDNET_FUSE_EPILOGUES');
    this.splitSingleImages = options.splitSingleImages ?? onOffSetting('SIMDNET_SPLIT_SINGLE_IMAGES');
    this.snapshot = new NonTrainableSnapshot(core);
    // Off the main thread only where workers can share the memory (not in a page without isolation).
    if (this.threads === 1 && !(options.offMainThread && platform.canShareMemory())) {
      this.inline = { k: options.kernels ?? core.runtime.k, graph: core.graph, layout: core.layout, executors: new Map(), trace: options.trace };
    }
    const path = options.offMainThread ? 'pool' : options.singleImagePath ?? 'auto';
    this.singleImages = path === 'auto' ? new SingleImagePathChooser() : path;
    if (!this.inline && path !== 'pool') this.callingThread = { k: core.runtime.k, graph: core.graph, layout: core.layout, executors: new Map() };
  }

  // The pool starts once the first step's memory is laid out, so a step that cannot fit fails
  // before any thread is started.
  private startPool(): WorkerPool<StepTask, StepReply> {
    this.pool ??= platform.enginePool<StepTask, StepReply>(this.threads);
    return this.pool;
  }

  // Lays out every shared buffer for batches of up to `rows` rows, freeing the previous layout.
  private ensure(rows: number): EngineLayout {
    if (this.layout && rows <= this.layout.capacity) return this.layout;
    this.freeLayout();
    const { graph, runtime: rt, layout: params } = this.core;
    const alloc = (bytes: number) => {
      let p: number;
      try {
        p = rt.arena.alloc(bytes);
      } catch (err) {
        this.freeLayout();
        throw new ArgumentError(`a step of ${rows} samples on ${this.threads} thread(s)${this.deterministic ? ` in ${this.shards} shards` : ''} ` +
          `does not fit: ${(err as Error).message.replace(/^simdnet: /, '')}; use a smaller batch size or fewer threads`);
      }
      this.blocks.push(p);
      return p;
    };
    const ranges = shardsOf(rows, this.shards);
    const biggest = Math.max(...ranges.map(([, n]) => n));
    // Chosen here, once, on the calling thread, so that every thread runs the same kernels
    // (deterministic mode depends on it); measuring borrows the arena before the layout takes it.
    const gemm = useGemmBlocking(rt);
    const kernels: Record<string, string> = {};
    for (const n of graph.nodes) {
      const choice = n.layer.chooseKernel(rt, biggest);
      if (choice !== undefined) kernels[n.layer.name] = choice;
    }
    const regionBytes = Math.max(planStep(graph, biggest, true).bytes, planStep(graph, biggest, false, this.fuseEpilogues).bytes);
    const S = this.shards, T = threadsFor(S, this.threads);
    const K = this.core.outputSize;
    const widths: number[] = [];
    for (const n of graph.nodes) for (let s = 0; s < n.layer.reductions(); s++) widths.push(n.layer.reductionWidth());
    widths.push(1); // the loss
    this.layout = {
      engineId: this.id,
      layoutId: uniqueId(),
      memory: rt.memory,
      variant: rt.variant,
      config: this.core.config,
      capacity: rows,
      shards: S,
      threads: T,
      params: this.core.params,
      grads: this.core.grads,
      // One shard writes the model's gradient vector directly.
      shardGrads: S === 1 ? [this.core.grads] : Array.from({ length: S }, () => alloc(4 * params.trainableFloats)),
      slots: this.core.slots,
      trainableFloats: params.trainableFloats,
      regions: Array.from({ length: S }, () => alloc(regionBytes)),
      probs: Array.from({ length: S }, () => alloc(lossScratchBytes(biggest, K))),
      workspaces: Array.from({ length: T }, (_, t) => (t === 0 && this.inline ? rt.gemmWorkspace : alloc(rt.k.gemm_workspace_bytes()))),
      splitScratch: Array.from({ length: T }, (_, t) => (t === 0 || this.inline ? 0 : alloc(Math.max(16, planStep(graph, 1, false, this.fuseEpilogues).scratchBytes)))),
      stages: Array.from({ length: T }, () => alloc(4 * UPDATE_CHUNK * STAGED_VECTORS)),
      reductionSums: widths.map((w) => alloc(16 * w * S)),
      reductionWidths: widths,
      barrier: alloc(4 * BARRIER_WORDS),
      progress: alloc(4 * T),
      updateProgress: alloc(4 * T),
      batchX: alloc(4 * rows * this.core.inputSize),
      batchY: alloc(4 * rows * K),
      batchOut: alloc(4 * rows * K),
      barrierTimeoutMs: barrierTimeout(),
      kernels,
      gemm,
      fuseEpilogues: this.fuseEpilogues,
    };
    return this.layout;
  }

  private freeLayout(): void {
    for (const p of this.blocks) this.core.runtime.arena.free(p);
    this.blocks = [];
    this.layout = undefined;
    this.inline?.executors.clear();
    this.callingThread?.executors.clear();
  }

  private async run(mode: 'train' | 'predict' | 'statistics', batch: Batch, update: OptimizerUpdate | null, movingMomentum?: number): Promise<number> {
    this.core.gate.enter();
    try {
      return await this.runStep(mode, batch, update, movingMomentum);
    } finally {
      this.core.gate.leave();
    }
  }

  private async runStep(mode: 'train' | 'predict' | 'statistics', batch: Batch, update: OptimizerUpdate | null, movingMomentum?: number): Promise<number> {
    if (this.failed) throw new WorkerFailure('simdnet: this worker pool failed earlier and was shut down');
    if (mode === 'train' && (!this.core.grads || !this.core.loss)) throw new ArgumentError('compile the model before training it');
    const L = this.ensure(batch.rows);
    // What compile() may have changed since the layout was made (the gradient vector stays put).
    L.slots = this.core.slots;
    if (L.shards === 1) L.shardGrads = [this.core.grads];
    L.grads = this.core.grads;
    if (L.slots.length > 2) throw new ArgumentError('optimizers with more than two state vectors are not supported');
    const rt = this.core.runtime;
    const K = this.core.outputSize;
    rt.f32(L.batchX, batch.x.length).set(batch.x);
    if (batch.rejectNonFinite) {
      const bad = rt.k.first_non_finite(L.batchX, batch.x.length);
      if (bad >= 0) throw batch.rejectNonFinite(bad);
    }
    if (mode === 'train') {
      const y = rt.f32(L.batchY, batch.rows * K);
      y.set(batch.y!);
      this.core.loss!.prepareLabels(y, K);
    }
    // One image on a pool engine: on the calling thread, or on the pool where each layer that
    // can splits its output channels between the threads.
    const single = mode === 'predict' && !this.inline && L.threads > 1 && shardsOf(batch.rows, L.shards).length === 1;
    const singlePath = !single ? 'pool' : typeof this.singleImages === 'string' ? this.singleImages : this.singleImages.next();
    const onCaller = singlePath === 'calling' && this.callingThread !== undefined;
    const split = single && !onCaller && this.splitSingleImages;
    const T = split ? L.threads : onCaller ? 1 : threadsFor(shardsOf(batch.rows, L.shards).length, this.threads);
    this.lastStep = { threads: T, split, callingThread: onCaller };
    const words = new Int32Array(rt.memory.buffer, L.barrier, BARRIER_WORDS);
    Barrier.reset(words);
    new Int32Array(rt.memory.buffer, L.progress, L.threads).fill(StepProgress.notStarted);
    new Int32Array(rt.memory.buffer, L.updateProgress, L.threads).fill(-1);
    // Moving statistics change during the forward pass: keep them, to undo a failed step.
    if (mode !== 'predict') this.snapshot.save();
    const task = (thread: number): StepTask => ({
      layout: L, mode, movingMomentum, thread, threads: T, totalRows: batch.rows, step: batch.step ?? 0,
      loss: this.core.loss ? serializeLoss(this.core.loss) : undefined, update, split,
    });

    let loss: number;
    const started = performance.now();
    const here = this.inline ?? (onCaller ? this.callingThread : undefined);
    if (here) {
      try {
        loss = runShardStep(here, task(0)).loss;
      } catch (err) {
        if (mode !== 'predict') this.snapshot.restore();
        throw err;
      }
    } else {
      loss = await this.runOnPool(T, task, mode, update);
    }
    if (single && this.singleImages instanceof SingleImagePathChooser) this.singleImages.record(singlePath, performance.now() - started);
    if (mode === 'train' && !Number.isFinite(loss)) {
      this.snapshot.restore();
      throw new NonFiniteLossError(loss);
    }
    return loss;
  }

  private async runOnPool(T: number, task: (t: number) => StepTask, mode: StepTask['mode'], update: OptimizerUpdate | null): Promise<number> {
    const L = this.layout!;
    const rt = this.core.runtime;
    const words = new Int32Array(rt.memory.buffer, L.barrier, BARRIER_WORDS);
    const pool = this.startPool();
    const tasks = Array.from({ length: T }, (_, t) => pool.run(task(t)).catch((err: unknown) => {
      Barrier.abort(words);
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { thread: t });
    }));
    const settled = await Promise.allSettled(tasks);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failures.length === 0) return (settled[0] as PromiseFulfilledResult<StepReply>).value.loss;

    // The first cause: a worker that failed on its own rather than by the abort it triggered.
    const reasons = failures.map((f) => f.reason as Error & { thread: number });
    const first = reasons.find((r) => !/aborted (before|while)/.test(r.message)) ?? reasons[0];
    const where = this.describeProgress(new Int32Array(rt.memory.buffer, L.progress, L.threads)[first.thread]);
    // Every thread had seen every gradient complete (progress >= 0) before any could start
    // updating: then the update is finished here, slice by slice, from where each thread stopped.
    // Otherwise no thread updated anything, and the moving statistics are put back.
    const updates = new Int32Array(rt.memory.buffer, L.updateProgress, L.threads);
    const applied = mode === 'train' && update !== null && Array.from({ length: T }, (_, t) => updates[t]).every((p) => p >= 0);
    if (applied) {
      const shards = shardsOf(task(0).totalRows, L.shards).length;
      for (let t = 0; t < T; t++) updateSlice(rt.k, update!, L, shards, t, T);
    } else if (mode !== 'predict') {
      this.snapshot.restore();
    }
    this.failed = true;
    await this.dispose();
    throw new WorkerFailure(`simdnet: worker ${first.thread} failed ${where}: ${first.message}. ` +
      (applied ? 'The step\'s update was completed on the main thread (the model is as after the step)'
        : 'The step was abandoned, the model left as before it') + ', and the worker pool shut down.', applied);
  }

  private describeProgress(at: number): string {
    const nodes = this.core.graph.nodes, N = nodes.length;
    if (at < 0) return 'before its first layer';
    if (at < N) return `in layer "${nodes[at].layer.name}" (forward)`;
    if (at < 2 * N) return `in layer "${nodes[at - N].layer.name}" (backward)`;
    if (at === StepProgress.loss(N)) return 'in the loss';
    if (at === StepProgress.reduction(N)) return 'in the gradient reduction';
    return 'in the update';
  }

  /** Per layer name, the kernel its layer chose for the current layout (Layer.chooseKernel). */
  get kernelChoices(): Readonly<Record<string, string>> {
    return this.layout?.kernels ?? {};
  }

  /**
   * Forward and backward over the batch, then applies `update` to the trainable parameters; with
   * a null update, leaves the batch's gradient in the model's gradient vector instead.
   */
  async trainStep(batch: Batch, update: OptimizerUpdate | null): Promise<TrainResult> {
    const loss = await this.run('train', batch, update);
    return { loss, outputs: this.core.runtime.download(this.layout!.batchOut, batch.rows * this.core.outputSize) };
  }

  /**
   * A training-mode forward pass that only updates the moving statistics of batch norm, with
   * `movingMomentum` in place of each layer's momentum (precise batch norm).
   */
  async statisticsStep(batch: Batch, movingMomentum: number): Promise<void> {
    await this.run('statistics', batch, null, movingMomentum);
  }

  /** Inference-mode forward; returns the outputs. */
  async predictStep(batch: Batch): Promise<Float32Array> {
    await this.run('predict', batch, null);
    return this.core.runtime.download(this.layout!.batchOut, batch.rows * this.core.outputSize);
  }

  /** Stops the workers and frees the engine's memory; the model stays usable. */
  async dispose(): Promise<void> {
    this.freeLayout();
    await this.pool?.destroy();
  }
}
