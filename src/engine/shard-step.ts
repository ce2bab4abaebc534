// One thread's share of one step, for one thread or many: the same function runs on the main
// thread (one thread, or the profiler) and in every worker.
//
//   forward    every shard of the thread, layer by layer; batch norm's sums meet across all shards
//   loss       each shard's partial loss, combined in shard order (all skip the update together
//              if it is not finite)
//   backward   layer by layer in reverse, into each shard's gradient vector
//   update     after a barrier (every shard's gradient complete) and a second one (every thread
//              past the first), each thread takes one slice of the parameters chunk by chunk:
//              sums the chunk's shard gradients in shard order, writes its new values to a
//              staging area, copies them back, and records its progress, so that the main
//              thread can finish the update if the thread dies (a failed step never leaves a
//              half-updated model). Without an update, each thread sums its slice of the
//              gradients into the model's gradient vector instead.

import { SimdnetError } from '../errors.js';
import { platform } from '#platform';
import type { KernelExports } from '../kernels/index.js';
import type { SumRequest } from '../layers/layer.js';
import { sizeOf } from '../layers/layer.js';
import { lossFromConfig } from '../training/losses.js';
import { applyUpdate, type OptimizerUpdate, type UpdateVectors } from '../training/optimizers.js';
import { Barrier, BARRIER_WORDS } from './barrier.js';
import { Executor } from './executor.js';
import type { Graph } from './graph.js';
import type { ParamLayout } from './param-layout.js';
import { StepProgress, type EngineLayout, type StepReply, type StepTask } from './protocol.js';
import { ShardReducer } from './reducer.js';
import { paramSlice, shardsOf, shardsOfThread } from './sharding.js';
import { planStep } from './step-plan.js';

/** What one thread keeps between steps: its kernels, the model's graph and its executors. */
export interface ShardThread {
  readonly k: KernelExports;
  readonly graph: Graph;
  readonly layout: ParamLayout;
  readonly executors: Map<string, Executor>;
  /** Called before each layer runs (the profiler's timer). */
  readonly trace?: (node: number, backward: boolean) => void;
}

/**
 * Floats per update chunk; a thread's staging area holds a chunk of the parameters, of each of
 * (at most two) state vectors and of the summed gradient, which together stay in L2.
 */
export const UPDATE_CHUNK = 8192;
export const STAGED_VECTORS = 4;

/** A shard's loss scratch: the probabilities (rows x K floats), then the loss as two float64. */
export function lossScratchBytes(rows: number, K: number): number {
  return lossOffset(rows, K) + 16;
}
function lossOffset(rows: number, K: number): number {
  return 8 * Math.ceil((rows * K) / 2);
}

// For the failure tests: SIMDNET_TEST_FAULT="<point>:<thread>:<chunk>" makes that worker thread
// exit at that point (gradients, staged or committed), as a thread killed there would.
const fault = platform.workerFault();
function faultPoint(point: string, thread: number, chunk = 0): void {
  if (fault !== undefined && fault === `${point}:${thread}:${chunk}`) platform.killWorkerThread();
}

function executorFor(th: ShardThread, L: EngineLayout, t: StepTask, shard: number, start: number, rows: number): Executor {
  const training = t.mode !== 'predict';
  const grads = t.mode === 'train' ? L.shardGrads[shard] : 0;
  const key = `${L.layoutId}:${t.mode}:${shard}:${start}:${rows}:${t.totalRows}:${grads}:${t.thread}:${t.split ? t.threads : 0}`;
  let ex = th.executors.get(key);
  if (!ex) {
    if (th.executors.size > 64) th.executors.clear();
    const split = t.split ? { slice: { index: t.thread, count: t.threads } } : {};
    ex = new Executor(th.graph, th.layout, planStep(th.graph, rows, training, L.fuseEpilogues), th.k,
      { region: L.regions[shard], params: L.params, grads, gemmWorkspace: L.workspaces[t.thread], kernels: L.kernels,
        ...(t.split && t.thread > 0 ? { scratch: L.splitScratch[t.thread] } : {}) },
      { totalRows: t.totalRows, firstRow: start, step: t.step, updatesSharedState: shard === 0, ...split });
    th.executors.set(key, ex);
  }
  ex.step = t.step;
  ex.movingMomentum = t.movingMomentum;
  return ex;
}

// Runs the layer calls of all of a thread's shards side by side; when they pause for a reduction
// (they all run the same layer, so they pause at the same one), combines their sums.
function drive(works: Generator<SumRequest, void, void>[], reducer: ShardReducer): void {
  for (;;) {
    const next = works.map((w) => w.next());
    if (next.every((r) => r.done)) return;
    if (next.some((r) => r.done)) throw new SimdnetError('simdnet: internal: the shards of one layer requested different reductions');
    reducer.combine(next.map((r) => r.value as SumRequest));
  }
}

export function runShardStep(th: ShardThread, t: StepTask): StepReply {
  if (t.split) return runSplitStep(th, t);
  const L = t.layout, k = th.k;
  // Every thread sums in the same order: the GEMM blocking the engine chose.
  k.gemm_set_blocking(L.gemm.mr, L.gemm.mc, L.gemm.kc, L.gemm.nc);
  const nodes = th.graph.nodes, N = nodes.length;
  const ranges = shardsOf(t.totalRows, L.shards);
  const [first, end] = shardsOfThread(ranges.length, t.thread, t.threads);
  const words = new Int32Array(L.memory.buffer, L.barrier, BARRIER_WORDS);
  const barrier = new Barrier(words, t.threads);
  const reducer = new ShardReducer(k, barrier, L.reductionSums, L.reductionWidths, first, ranges.length, L.barrierTimeoutMs);
  const progress = new Int32Array(L.memory.buffer, L.progress, L.threads);
  const at = (where: number, what: string) => {
    Atomics.store(progress, t.thread, where);
    reducer.where = what;
  };
  const exs: Executor[] = [];
  for (let s = first; s < end; s++) exs.push(executorFor(th, L, t, s, ranges[s][0], ranges[s][1]));
  const inSize = sizeOf(th.graph.inputLayer.outputShape);
  const K = sizeOf(th.graph.outputLayer.outputShape);

  for (const [i, ex] of exs.entries()) k.copy(ex.inputPtr, L.batchX + 4 * ranges[first + i][0] * inSize, ranges[first + i][1] * inSize);
  for (let i = 0; i < N; i++) {
    at(i, `layer "${nodes[i].layer.name}" (forward)`);
    th.trace?.(i, false);
    drive(exs.map((ex) => ex.forwardNode(i)), reducer);
  }
  for (const [i, ex] of exs.entries()) k.copy(L.batchOut + 4 * ranges[first + i][0] * K, ex.outputPtr, ranges[first + i][1] * K);
  if (t.mode !== 'train') return { loss: 0 };

  at(StepProgress.loss(N), 'the loss');
  const loss = lossFromConfig(t.loss);
  const losses: SumRequest[] = exs.map((ex, i) => {
    const [start, rows] = ranges[first + i];
    const probs = L.probs[first + i];
    const logits = loss.fromLogits ? ex.outputPtr : ex.logitsPtr;
    const partial = loss.forwardBackward(k, logits, L.batchY + 4 * start * K, rows, K, 1 / t.totalRows, probs, ex.outputGradPtr);
    const lossAt = probs + lossOffset(rows, K);
    new Float64Array(L.memory.buffer, lossAt, 2).set([partial, 0]);
    return { reduction: L.reductionSums.length - 1, a: lossAt, b: lossAt + 8, C: 1 };
  });
  reducer.combine(losses);
  const total = new Float64Array(L.memory.buffer, losses[0].a, 1)[0];
  if (!Number.isFinite(total)) return { loss: total };

  for (const ex of exs) ex.startBackward(!loss.fromLogits);
  for (let i = N - 1; i >= 0; i--) {
    if (!exs[0].hasBackward(i)) continue;
    at(N + i, `layer "${nodes[i].layer.name}" (backward)`);
    th.trace?.(i, true);
    drive(exs.map((ex) => ex.backwardNode(i)), reducer);
  }

  // Every shard's gradient is complete.
  at(StepProgress.reduction(N), 'the gradient reduction');
  barrier.arrive(L.barrierTimeoutMs, 'the gradient reduction');
  if (!t.update) {
    const [s0, s1] = paramSlice(L.trainableFloats, t.thread, t.threads);
    const sum = reduceGradients(k, L, ranges.length, s0, s1 - s0, L.grads + 4 * s0);
    if (sum !== L.grads + 4 * s0 && s1 > s0) k.copy(L.grads + 4 * s0, sum, s1 - s0);
    return { loss: total };
  }
  faultPoint('gradients', t.thread);
  // Progress 0: this thread saw every gradient complete. No thread passes the next barrier (and
  // changes a parameter) before all have, so a thread that dies before it leaves the model as it was.
  const updates = new Int32Array(L.memory.buffer, L.updateProgress, L.threads);
  Atomics.store(updates, t.thread, 0);
  at(StepProgress.update(N), 'the update');
  barrier.arrive(L.barrierTimeoutMs, 'the update');
  updateSlice(k, t.update, L, ranges.length, t.thread, t.threads);
  return { loss: total };
}

/**
 * Inference on one image with every thread (StepTask.split): the threads run the one shard's
 * executor side by side; a layer that splits its output channels runs on all of them, each on its
 * share; any other layer on the first thread alone. They meet at the barrier on both sides of each
 * split layer, where one thread's writes become another's inputs.
 */
function runSplitStep(th: ShardThread, t: StepTask): StepReply {
  const L = t.layout, k = th.k;
  k.gemm_set_blocking(L.gemm.mr, L.gemm.mc, L.gemm.kc, L.gemm.nc);
  const nodes = th.graph.nodes;
  const barrier = new Barrier(new Int32Array(L.memory.buffer, L.barrier, BARRIER_WORDS), t.threads);
  const progress = new Int32Array(L.memory.buffer, L.progress, L.threads);
  const ex = executorFor(th, L, t, 0, 0, t.totalRows);
  const first = t.thread === 0;
  const inSize = sizeOf(th.graph.inputLayer.outputShape), K = sizeOf(th.graph.outputLayer.outputShape);
  const run = (i: number) => {
    for (const r of ex.forwardNode(i)) throw new SimdnetError(`simdnet: internal: layer "${nodes[i].layer.name}" asked for a reduction (${r.reduction}) in inference`);
  };
  if (first) k.copy(ex.inputPtr, L.batchX, t.totalRows * inSize);
  let synced = false;
  for (let i = 0; i < nodes.length; i++) {
    const how = ex.forwardRuns(i);
    if (how === 'none') continue;
    const where = `layer "${nodes[i].layer.name}" (forward)`;
    Atomics.store(progress, t.thread, i);
    th.trace?.(i, false);
    if (how === 'single') {
      if (first) run(i);
      synced = false;
      continue;
    }
    if (!synced) barrier.arrive(L.barrierTimeoutMs, where);
    run(i);
    barrier.arrive(L.barrierTimeoutMs, where);
    synced = true;
  }
  if (first) k.copy(L.batchOut, ex.outputPtr, t.totalRows * K);
  return { loss: 0 };
}

// Sums the gradients of `shards` shards over floats [from, from + n), in shard order, into dst
// (byte offset of n floats); returns where the sum is: dst, or the only shard's own gradient.
function reduceGradients(k: KernelExports, L: EngineLayout, shards: number, from: number, n: number, dst: number): number {
  const g = L.shardGrads, off = 4 * from;
  if (shards === 1) return g[0] + off;
  if (n <= 0) return dst;
  k.add(g[0] + off, g[1] + off, dst, n);
  for (let s = 2; s < shards; s++) k.add_to(dst, g[s] + off, n);
  return dst;
}

/**
 * Applies the update to thread t's slice of a step of `shards` shards, from where its progress
 * word says it stopped: 2c + 1 means chunk c is computed in the staging area but maybe not all
 * copied back, 2c + 2 that chunk c is done. Summing a chunk's gradients or copying back a staged
 * chunk again is harmless, so the main thread can call this for a thread that died and the slice
 * ends exactly as if the thread had finished.
 */
export function updateSlice(k: KernelExports, u: OptimizerUpdate, L: EngineLayout, shards: number, t: number, threads: number): void {
  const updates = new Int32Array(L.memory.buffer, L.updateProgress, L.threads);
  const [s0, s1] = paramSlice(L.trainableFloats, t, threads);
  const vectors = [L.params, ...L.slots];
  const stage = (v: number) => L.stages[t] + 4 * v * UPDATE_CHUNK;
  const staged: UpdateVectors = { p: stage(0), slots: L.slots.map((_, i) => stage(i + 1)) };
  const chunkOf = (c: number): [number, number] => {
    const from = s0 + c * UPDATE_CHUNK;
    return [from, Math.min(UPDATE_CHUNK, s1 - from)];
  };
  const commit = (c: number) => {
    const [from, n] = chunkOf(c);
    for (const [v, base] of vectors.entries()) k.copy(base + 4 * from, stage(v), n);
    Atomics.store(updates, t, 2 * c + 2);
  };
  const p = Atomics.load(updates, t);
  let c = p >> 1;
  if (p % 2 === 1) commit(c++);
  for (; s0 + c * UPDATE_CHUNK < s1; c++) {
    const [from, n] = chunkOf(c), off = 4 * from;
    const g = reduceGradients(k, L, shards, from, n, stage(STAGED_VECTORS - 1));
    applyUpdate(k, u, { p: L.params + off, slots: L.slots.map((s) => s + off) }, g, staged, n);
    Atomics.store(updates, t, 2 * c + 1);
    faultPoint('staged', t, c);
    commit(c);
    faultPoint('committed', t, c);
  }
}
