// A piscina worker: runs its share of a step on the model's shared memory. It instantiates the
// kernels and rebuilds the model graph once per model, and keeps its executors; any worker can
// run any thread's share, since every buffer is at a fixed place in the shared memory.

import { compileKernels, instantiateKernels } from '../kernels/wasm.js';
import { buildFromConfig } from './graph-config.js';
import { Graph } from './graph.js';
import { ParamLayout } from './param-layout.js';
import type { EngineLayout, StepReply, StepTask } from './protocol.js';
import { runShardStep, type ShardThread } from './shard-step.js';

let current: { engineId: string; thread: ShardThread } | undefined;

function threadFor(L: EngineLayout): ShardThread {
  // A pool belongs to one engine, and so to one model.
  if (current?.engineId !== L.engineId) {
    const k = instantiateKernels(compileKernels(L.variant), L.memory);
    const { input, output } = buildFromConfig(L.config);
    const graph = new Graph(input, output);
    current = { engineId: L.engineId, thread: { k, graph, layout: new ParamLayout(graph), executors: new Map() } };
  }
  return current.thread;
}

export default function runTask(t: StepTask): StepReply {
  return runShardStep(threadFor(t.layout), t);
}
