// Runs each step over a pool of piscina workers that share the model's memory: the batch is cut
// into contiguous shards, one per worker; batch norm statistics and the loss are combined across
// shards; gradients are summed in shard order, slice by slice, by the workers themselves.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import { packageRoot } from '../io/paths.js';
import { planStep } from '../models/step-plan.js';
import { NonFiniteLossError, type Batch, type StepEngine, type TrainResult } from '../training/engine.js';
import { NonTrainableSnapshot, type ModelCore } from '../training/local-engine.js';
import type { OptimizerUpdate } from '../training/optimizers.js';
import { Barrier, BARRIER_WORDS } from './barrier.js';
import { LOSS_SLOT_WIDTH, type EngineLayout, type StepReply, type StepTask } from './protocol.js';
import { shardRanges } from './shared-reducer.js';

const DEFAULT_BARRIER_TIMEOUT_MS = 60_000;

function workerFile(): string {
  const file = join(packageRoot(), 'dist', 'src', 'parallel', 'worker.js');
  if (!existsSync(file)) throw new Error(`simdnet: the worker script ${file} is missing; run "npm run build"`);
  return file;
}

function barrierTimeout(): number {
  const env = process.env.SIMDNET_BARRIER_TIMEOUT_MS;
  if (env === undefined) return DEFAULT_BARRIER_TIMEOUT_MS;
  const v = Number(env);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`simdnet: SIMDNET_BARRIER_TIMEOUT_MS must be a positive number, got "${env}"`);
  return v;
}

export class WorkerFailure extends Error {}

export class ParallelEngine implements StepEngine {
  readonly pool: Piscina;
  failed = false;
  private layout?: EngineLayout;
  private capacity = 0; // rows per batch the current layout holds
  private readonly snapshot: NonTrainableSnapshot;

  constructor(private readonly core: ModelCore, readonly threads: number) {
    this.snapshot = new NonTrainableSnapshot(core);
    this.pool = new Piscina({
      filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
    });
  }

  // Lays out every shared buffer for batches of up to `rows` rows.
  private ensure(rows: number): EngineLayout {
    if (this.layout && rows <= this.capacity) return this.layout;
    const { graph, runtime: rt, layout: params } = this.core;
    const arena = rt.arena;
    const ranges = shardRanges(rows, Math.min(this.threads, rows));
    const biggest = Math.max(...ranges.map(([, n]) => n));
    const regionBytes = Math.max(planStep(graph, biggest, true).bytes, planStep(graph, biggest, false).bytes);
    const shards = this.threads;
    const K = this.core.outputSize;
    const syncWidths: number[] = [];
    for (const n of graph.nodes) for (let s = 0; s < n.layer.syncSlots(); s++) syncWidths.push(n.layer.syncWidth());
    syncWidths.push(LOSS_SLOT_WIDTH);
    this.layout = {
      engineId: randomUUID(),
      memory: rt.memory,
      variant: rt.variant,
      config: this.core.config,
      params: this.core.params,
      grads: this.core.grads,
      shardGrads: Array.from({ length: shards }, () => arena.allocF32(params.trainableFloats)),
      slots: this.core.slots,
      trainableFloats: params.trainableFloats,
      regions: Array.from({ length: shards }, () => arena.alloc(regionBytes)),
      workspaces: Array.from({ length: shards }, () => arena.alloc(rt.k.gemm_workspace_bytes())),
      probs: Array.from({ length: shards }, () => arena.alloc(4 * biggest * K + 16)),
      syncSlots: syncWidths.map((w) => arena.alloc(16 * w * shards)),
      syncWidths,
      barrier: arena.alloc(4 * BARRIER_WORDS),
      progress: arena.alloc(4 * shards),
      batchX: arena.allocF32(rows * this.core.inputSize),
      batchY: arena.allocF32(rows * K),
      batchOut: arena.allocF32(rows * K),
      fusedSoftmax: this.core.fusedSoftmax,
      barrierTimeoutMs: barrierTimeout(),
    };
    this.capacity = rows;
    return this.layout;
  }

  private async run(mode: 'train' | 'predict', batch: Batch, update: OptimizerUpdate | null): Promise<StepReply> {
    if (this.failed) throw new Error('simdnet: this worker pool failed earlier and was shut down');
    const L = this.ensure(batch.rows);
    // Settings that compile() may have changed since the layout was made.
    L.grads = this.core.grads;
    L.slots = this.core.slots;
    L.fusedSoftmax = this.core.fusedSoftmax;
    const rt = this.core.runtime;
    const K = this.core.outputSize;
    rt.f32(L.batchX, batch.x.length).set(batch.x);
    if (batch.y) rt.f32(L.batchY, batch.rows * K).set(batch.y);
    const ranges = shardRanges(batch.rows, Math.min(this.threads, batch.rows));
    const words = new Int32Array(rt.memory.buffer, L.barrier, BARRIER_WORDS);
    Barrier.reset(words);
    const progress = new Int32Array(rt.memory.buffer, L.progress, this.threads);
    progress.fill(-1);
    // Moving statistics change during the forward pass: keep them, to undo a failed step.
    if (mode === 'train') this.snapshot.save();

    const tasks = ranges.map(([start, rows], shard) => {
      const task: StepTask = { layout: L, mode, shard, shards: ranges.length, start, rows, totalRows: batch.rows, update };
      return (this.pool.run(task) as Promise<StepReply>).catch((err: unknown) => {
        Barrier.abort(words);
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { shard });
      });
    });
    const settled = await Promise.allSettled(tasks);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failures.length > 0) {
      if (mode === 'train') this.snapshot.restore();
      // The first cause: a worker that failed on its own rather than by the abort it triggered.
      const reasons = failures.map((f) => f.reason as Error & { shard: number });
      const first = reasons.find((r) => !/aborted (before|while)/.test(r.message)) ?? reasons[0];
      const at = progress[first.shard];
      const nodes = this.core.graph.nodes;
      const where = at < 0 ? 'before its first layer' : at < nodes.length
        ? `in layer "${nodes[at].layer.name}" (forward)` : `in layer "${nodes[at - nodes.length]?.layer.name}" (backward)`;
      this.failed = true;
      await this.dispose();
      throw new WorkerFailure(`simdnet: worker ${first.shard} failed ${where}: ${first.message}. ` +
        'The step was abandoned, the model left as before it, and the worker pool shut down.');
    }
    const reply = (settled[0] as PromiseFulfilledResult<StepReply>).value;
    if (mode === 'train' && !Number.isFinite(reply.loss)) this.snapshot.restore();
    return reply;
  }

  async trainStep(batch: Batch, update: OptimizerUpdate | null): Promise<TrainResult> {
    const r = await this.run('train', batch, update);
    if (!Number.isFinite(r.loss)) throw new NonFiniteLossError(r.loss);
    return { loss: r.loss, outputs: this.core.runtime.download(this.layout!.batchOut, batch.rows * this.core.outputSize) };
  }

  async predictStep(batch: Batch): Promise<Float32Array> {
    await this.run('predict', batch, null);
    return this.core.runtime.download(this.layout!.batchOut, batch.rows * this.core.outputSize);
  }

  async dispose(): Promise<void> {
    await this.pool.destroy();
  }
}

