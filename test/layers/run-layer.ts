// Runs one layer's forward and backward passes on given tensors, as the executor would for a
// training step of one shard holding the whole batch: what the layer goldens compare.
import { input, type Layer } from '../../src/index.js';
import type { LayerBuffers, StepContext } from '../../src/layers/layer.js';
import type { Harness } from '../helpers/harness.js';

export interface LayerRun { y: Float32Array; dxs: Float32Array[]; grads: Record<string, Float32Array> }

// inputs: one flat array per input with its shape (batch first); weights by name (`depthwise_kernel`).
export function runLayer(h: Harness, layer: Layer, inputs: { data: ArrayLike<number>; shape: number[] }[],
  weights: Record<string, ArrayLike<number>>, dy: ArrayLike<number>): LayerRun {
  const rows = inputs[0].shape[0];
  layer.apply(inputs.map((t) => input({ shape: t.shape.slice(1) })));
  const mark = h.rt.arena.mark();
  const floats = (bytes: number) => (bytes ? h.alloc(Math.ceil(bytes / 4)) : 0);
  const outSize = rows * layer.outputShape.reduce((a, b) => a * b, 1);
  const b: LayerBuffers = {
    inputs: inputs.map((t) => h.up(Float32Array.from(t.data))),
    output: h.alloc(outSize),
    state: floats(layer.stateBytes(rows, true)),
    dOutput: h.up(Float32Array.from(dy)),
    dInputs: inputs.map((t) => h.alloc(t.data.length)),
    weights: layer.weights.map((w) => {
      const v = weights[w.name];
      if (!v || v.length !== w.size) throw new Error(`weight ${w.name}: expected ${w.size} values`);
      return h.up(Float32Array.from(v));
    }),
    grads: layer.weights.map((w) => (w.trainable ? h.alloc(w.size) : 0)),
    firstReduction: 0,
    gradIsLogits: false,
    inputRelu: false,
  };
  const ctx: StepContext = {
    k: h.rt.k, gemmWorkspace: h.rt.gemmWorkspace, scratch: floats(layer.scratchBytes(rows, true)), training: true, rows, totalRows: rows,
    firstRow: 0, step: 0, updatesSharedState: true, kernels: {},
  };
  const drain = (w: unknown) => { if (w && typeof (w as Generator).next === 'function') for (const _ of w as Generator) throw new Error('a layer that needs batch sums'); };
  drain(layer.forward(ctx, b));
  const y = h.get(b.output, outSize);
  drain(layer.backward(ctx, b));
  const run: LayerRun = {
    y,
    dxs: inputs.map((t, i) => h.get(b.dInputs[i], t.data.length)),
    grads: Object.fromEntries(layer.weights.map((w, i) => [w.name, h.get(b.grads[i], w.size)])),
  };
  h.rt.arena.freeSince(mark);
  return run;
}
