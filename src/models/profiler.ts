// A per-layer and per-kernel profile of one training or inference step on one thread, to choose
// the next optimization from data: the step runs through an engine on the calling thread whose
// kernels are wrapped in timers. It changes nothing in the model: no update is applied, the
// moving statistics are put back, and the engine's memory is freed.

import { Engine } from '../engine/engine.js';
import { NonTrainableSnapshot } from '../engine/model-core.js';
import { ArgumentError, NonFiniteLossError } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';
import type { Tensor } from '../tensor.js';
import type { Model } from './model.js';

/** `kernel`: the kernel the layer chose, for layers that choose one (a convolution's algorithm). */
export interface LayerTime { layer: string; type: string; phase: 'forward' | 'backward'; ms: number; kernel?: string }
export interface KernelTime { kernel: string; calls: number; ms: number }
/** One measured step: its time, and the time of every layer's pass and of every kernel (loss 0 for a predict step). */
export interface StepProfile { totalMs: number; loss: number; layers: LayerTime[]; kernels: KernelTime[] }

/** Options of profileTrainingStep. */
export interface ProfileOptions {
  /**
   * Unmeasured steps before the measured one. A kernel's first call compiles it (5 ms for max
   * pooling) and its next few still run slow: after one warm-up step the ConvNet's max pooling
   * was timed at 0.55 ms, after three at 0.25-0.30. Default 3.
   */
  warmupSteps?: number;
}

/** Times one training step on one thread, layer by layer and kernel by kernel (the weights are restored after). */
export async function profileTrainingStep(model: Model, x: Tensor, y: Tensor, options: ProfileOptions = {}): Promise<StepProfile> {
  if (!model.optimizer) throw new ArgumentError('compile the model before profiling it');
  const step = async (engine: Engine) => (await engine.trainStep({ x: x.data, y: y.data, rows: x.shape[0] }, null)).loss;
  return model.exclusive(() => profile(model, step, options.warmupSteps ?? 3, false));
}

/** Times one inference step (what `predict` runs for a batch) on one thread, layer by layer and kernel by kernel. */
export async function profilePredictStep(model: Model, x: Tensor, options: ProfileOptions = {}): Promise<StepProfile> {
  const step = async (engine: Engine) => (await engine.predictStep({ x: x.data, rows: x.shape[0] }), 0);
  return model.exclusive(() => profile(model, step, options.warmupSteps ?? 3, true));
}

async function profile(model: Model, step: (engine: Engine) => Promise<number>, warmupSteps: number, inference: boolean): Promise<StepProfile> {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 1) throw new ArgumentError(`warmupSteps must be a whole number >= 1, got ${warmupSteps}`);
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
  const engine = new Engine(model.core, {
    threads: 1,
    kernels: timed,
    trace: (node, backward) => {
      close();
      const layer = nodes[node].layer;
      current = { layer: layer.name, type: layer.className, phase: backward ? 'backward' : 'forward', ms: 0 };
      layers.push(current);
      since = performance.now();
    },
  });
  const snapshot = new NonTrainableSnapshot(model.core);
  snapshot.save();
  try {
    // Steps to plan and warm up, then one measured; none updates the weights.
    for (let i = 0; i < warmupSteps; i++) await step(engine);
    layers.length = 0;
    kernels.clear();
    current = undefined;
    const t0 = performance.now();
    const loss = await step(engine);
    close();
    const totalMs = performance.now() - t0;
    const chosen = engine.kernelChoices;
    for (const l of layers) if (chosen[l.layer] !== undefined) l.kernel = chosen[l.layer];
    // A ReLU its reader applies (Graph.foldedRelus) runs nothing of its own: say where it went.
    const folded = model.graph.foldedRelus();
    const foldedInto = new Map(nodes.flatMap((n, i) => (folded[i] ? [[n.layer.name, nodes[n.consumers[0]].layer.name]] : [])));
    for (const l of layers) if (foldedInto.has(l.layer)) l.kernel = `folded into ${foldedInto.get(l.layer)}`;
    // So does a layer of an inference epilogue: its convolution's pass applies it.
    if (inference && engine.fuseEpilogues) {
      const { fusedInto } = model.graph.inferenceEpilogues();
      const into = new Map(nodes.flatMap((n, i) => (fusedInto[i] >= 0 ? [[n.layer.name, nodes[fusedInto[i]].layer.name]] : [])));
      for (const l of layers) if (into.has(l.layer)) l.kernel = `fused into ${into.get(l.layer)}`;
    }
    return { totalMs, loss, layers, kernels: [...kernels.values()].sort((a, b) => b.ms - a.ms) };
  } catch (err) {
    if (err instanceof NonFiniteLossError) throw new NonFiniteLossError(err.loss, 'in profileTrainingStep');
    throw err;
  } finally {
    snapshot.restore();
    await engine.dispose();
  }
}
