// A piscina worker: runs one shard of a step on the shared memory. It rebuilds the model from
// its config once per engine and keeps its executors; any worker can run any shard, since every
// shard's buffers are at fixed places in the shared memory.

import { compileKernels, instantiateKernels } from '../kernels/wasm.js';
import type { KernelExports } from '../kernels/index.js';
import { buildFromConfig } from '../models/config.js';
import { Executor } from '../models/executor.js';
import { Graph } from '../models/graph.js';
import { ParamLayout } from '../models/param-layout.js';
import { planStep } from '../models/step-plan.js';
import { applyUpdate } from '../training/optimizers.js';
import { Barrier, BARRIER_WORDS } from './barrier.js';
import type { EngineLayout, StepReply, StepTask } from './protocol.js';
import { SharedReducer } from './shared-reducer.js';

interface WorkerModel {
  k: KernelExports;
  graph: Graph;
  layout: ParamLayout;
  executors: Map<string, { ex: Executor; reducer: SharedReducer }>;
}

const models = new Map<string, WorkerModel>();

function modelFor(L: EngineLayout): WorkerModel {
  let m = models.get(L.engineId);
  if (!m) {
    const k = instantiateKernels(compileKernels(L.variant), L.memory);
    const { input, output } = buildFromConfig(L.config);
    const graph = new Graph(input, output);
    m = { k, graph, layout: new ParamLayout(graph), executors: new Map() };
    models.clear(); // one engine at a time per worker
    models.set(L.engineId, m);
  }
  return m;
}

function executorFor(m: WorkerModel, t: StepTask, progress: Int32Array) {
  const L = t.layout;
  const key = `${t.mode}:${t.shard}:${t.shards}:${t.rows}:${t.totalRows}`;
  let e = m.executors.get(key);
  if (!e) {
    const training = t.mode === 'train';
    const barrier = new Barrier(new Int32Array(L.memory.buffer, L.barrier, BARRIER_WORDS), t.shards);
    const reducer = new SharedReducer(m.k, barrier, L.syncSlots, L.syncWidths, t.shard, t.shards, L.barrierTimeoutMs);
    const nodes = m.graph.nodes;
    const ex = new Executor(m.graph, m.layout, planStep(m.graph, t.rows, training), m.k,
      { region: L.regions[t.shard], params: L.params, grads: training ? L.shardGrads[t.shard] : 0, gemmWorkspace: L.workspaces[t.shard] },
      {
        totalRows: t.totalRows, reducer, updatesSharedState: t.shard === 0,
        trace: (node, backward) => {
          Atomics.store(progress, t.shard, backward ? nodes.length + node : node);
          reducer.where = `layer "${nodes[node].layer.name}" (${backward ? 'backward' : 'forward'})`;
        },
      });
    if (m.executors.size > 64) m.executors.clear();
    e = { ex, reducer };
    m.executors.set(key, e);
  }
  return e;
}

// The range of the trainable parameters whose gradient reduction and update this shard does.
function paramSlice(total: number, shard: number, shards: number): [number, number] {
  const per = Math.ceil(total / shards / 16) * 16;
  return [Math.min(total, shard * per), Math.min(total, (shard + 1) * per)];
}

export default function runShard(t: StepTask): StepReply {
  const L = t.layout;
  const m = modelFor(L);
  const k = m.k;
  const progress = new Int32Array(L.memory.buffer, L.progress, t.shards);
  const { ex, reducer } = executorFor(m, t, progress);
  const inSize = m.graph.nodes[m.graph.inputNode].layer.outputShape.reduce((a, b) => a * b, 1);
  const K = m.graph.nodes[m.graph.outputNode].layer.outputShape[0];
  k.copy(ex.inputPtr, L.batchX + 4 * t.start * inSize, t.rows * inSize);
  ex.forward();
  k.copy(L.batchOut + 4 * t.start * K, ex.outputPtr, t.rows * K);
  if (t.mode === 'predict') return { loss: 0 };

  const logits = L.fusedSoftmax ? ex.logitsPtr : ex.outputPtr;
  const probs = L.probs[t.shard];
  const partial = k.softmax_xent(logits, L.batchY + 4 * t.start * K, t.rows, K, 1 / t.totalRows, probs, ex.outputGradPtr);
  // Every shard learns the batch's loss, so that all skip the update together if it is not finite.
  const lossAt = probs + 8 * Math.ceil((t.rows * K) / 2); // float64-aligned, after the probabilities
  const loss64 = new Float64Array(L.memory.buffer, lossAt, 2);
  loss64[0] = partial;
  loss64[1] = 0;
  reducer.where = 'the loss';
  reducer.allReduce(L.syncSlots.length - 1, lossAt, lossAt + 8, 1);
  const loss = new Float64Array(L.memory.buffer, lossAt, 1)[0];
  if (!Number.isFinite(loss)) return { loss };
  ex.backward(L.fusedSoftmax);

  // All shard gradients are ready: each shard sums one slice of them in shard order and updates it.
  const barrier = new Barrier(new Int32Array(L.memory.buffer, L.barrier, BARRIER_WORDS), t.shards);
  barrier.arrive(L.barrierTimeoutMs, 'the gradient reduction');
  const [s0, s1] = paramSlice(L.trainableFloats, t.shard, t.shards);
  const n = s1 - s0;
  if (n > 0) {
    const at = (base: number) => base + 4 * s0;
    if (t.shards === 1) k.copy(at(L.grads), at(L.shardGrads[0]), n);
    else {
      k.add(at(L.shardGrads[0]), at(L.shardGrads[1]), at(L.grads), n);
      for (let w = 2; w < t.shards; w++) k.add_to(at(L.grads), at(L.shardGrads[w]), n);
    }
    if (t.update) applyUpdate(k, t.update, at(L.params), at(L.grads), L.slots.map(at), n);
  }
  return { loss };
}
