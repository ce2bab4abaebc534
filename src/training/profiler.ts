// A per-layer and per-kernel profile of one training step on one thread, to choose the next
// optimization from data: the step runs through a LocalEngine whose kernels are wrapped in timers.

import type { KernelExports } from '../kernels/index.js';
import type { Model } from '../models/model.js';
import type { Tensor } from '../tensor.js';
import { LocalEngine } from './local-engine.js';

export interface LayerTime { layer: string; type: string; phase: 'forward' | 'backward'; ms: number }
export interface KernelTime { kernel: string; calls: number; ms: number }
export interface StepProfile { totalMs: number; loss: number; layers: LayerTime[]; kernels: KernelTime[] }

export async function profileTrainingStep(model: Model, x: Tensor, y: Tensor): Promise<StepProfile> {
  if (!model.optimizer) throw new Error('simdnet: compile the model before profiling it');
  const real = model.core.runtime.k;
  const kernels = new Map<string, KernelTime>();
  // The exports object is frozen, so the timers wrap a copy of it.
  const timed = Object.fromEntries(Object.entries(real).map(([name, v]) => {
    if (typeof v !== 'function') return [name, v];
    return [name, (...args: unknown[]) => {
      const t0 = performance.now();
      const r = (v as (...a: unknown[]) => unknown)(...args);
      const k = kernels.get(name) ?? { kernel: name, calls: 0, ms: 0 };
      k.calls++;
      k.ms += performance.now() - t0;
      kernels.set(name, k);
      return r;
    }];
  })) as unknown as KernelExports;
  const nodes = model.graph.nodes;
  const layers: LayerTime[] = [];
  let current: LayerTime | undefined;
  let since = 0;
  const close = () => {
    if (current) current.ms += performance.now() - since;
  };
  const engine = new LocalEngine(model.core, {
    kernels: timed,
    trace: (node, backward) => {
      close();
      const layer = nodes[node].layer;
      current = { layer: layer.name, type: layer.className, phase: backward ? 'backward' : 'forward', ms: 0 };
      layers.push(current);
      since = performance.now();
    },
  });
  // One step to plan and warm up, one measured; neither updates the weights.
  await engine.trainStep({ x: x.data, y: y.data, rows: x.shape[0] }, null);
  layers.length = 0;
  kernels.clear();
  current = undefined;
  const t0 = performance.now();
  const r = await engine.trainStep({ x: x.data, y: y.data, rows: x.shape[0] }, null);
  close();
  return { totalMs: performance.now() - t0, loss: r.loss, layers, kernels: [...kernels.values()].sort((a, b) => b.ms - a.ms) };
}
