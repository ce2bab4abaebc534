// What every layer's test checks: its output shape, its config round trip (getConfig ->
// fromConfig -> the same config, and a model rebuilt from its config computes the same outputs),
// and its gradients against central finite differences of the training-mode loss.
import { expect } from 'vitest';
import { Conv2D, Dense, Flatten, input, layerClass, Model, optimizers, tensor, type Layer, type SymbolicTensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

export interface LayerCase {
  // Applies the layer(s) under test to `x`; returns the output and the layer under test.
  build(x: SymbolicTensor): { out: SymbolicTensor; layer: Layer };
  inputShape: number[];
  outputShape: number[];
  // A convolution (image inputs) or dense layer (vectors) before the layer, so that a weight
  // upstream of it sees its input gradient. Default true.
  weightBefore?: boolean;
  // Finite-difference step. Default 1e-3; smaller where a step that size moves a near-tie of a
  // max (the difference then straddles a kink).
  h?: number;
}

const CLASSES = 3;
const ROWS = 3;

function makeModel(c: LayerCase): { model: Model; layer: Layer } {
  const x0 = input({ shape: c.inputShape });
  let x = x0;
  if (c.weightBefore ?? true) {
    x = c.inputShape.length === 3
      ? new Conv2D({ filters: c.inputShape[2], kernelSize: 1, name: 'before' }).apply(x0)
      : new Dense({ units: c.inputShape[0], name: 'before' }).apply(x0);
  }
  const { out, layer } = c.build(x);
  const flat = out.shape.length > 1 ? new Flatten({ name: 'flat' }).apply(out) : out;
  const logits = new Dense({ units: CLASSES, name: 'head' }).apply(flat);
  const model = new Model({ inputs: x0, outputs: logits, name: 'layer_test' });
  model.compile({ optimizer: optimizers.sgd({ learningRate: 0.1 }), loss: 'softmaxCrossEntropy' });
  return { model, layer };
}

function data(c: LayerCase) {
  const n = c.inputShape.reduce((a, b) => a * b, 1);
  const x = tensor(randomArray(ROWS * n, 11), [ROWS, ...c.inputShape]);
  const y = tensor(Float32Array.from({ length: ROWS * CLASSES }, (_, i) => (i % CLASSES === Math.floor(i / CLASSES) % CLASSES ? 1 : 0)), [ROWS, CLASSES]);
  return { x, y };
}

export function checkOutputShape(c: LayerCase): void {
  const { layer } = makeModel(c);
  expect(layer.outputShape).toEqual(c.outputShape);
}

export async function checkConfigRoundTrip(c: LayerCase): Promise<void> {
  const { model, layer } = makeModel(c);
  const again = layerClass(layer.className).fromConfig(layer.getConfig());
  expect(again.className).toBe(layer.className);
  expect(again.getConfig()).toEqual(layer.getConfig());
  const rebuilt = Model.fromConfig(model.getConfig());
  rebuilt.setWeights(model.getWeights());
  rebuilt.compile({ optimizer: 'sgd', loss: 'softmaxCrossEntropy' });
  const { x } = data(c);
  const a = await model.predict(x, { threads: 1 }), b = await rebuilt.predict(x, { threads: 1 });
  expect(Array.from(b.data)).toEqual(Array.from(a.data));
}

// d loss / d w for a few coordinates of every trainable weight, against (L(w+h) - L(w-h)) / 2h.
export async function checkGradients(c: LayerCase, coords = 8): Promise<void> {
  const h = c.h ?? 1e-3;
  const { model } = makeModel(c);
  const { x, y } = data(c);
  const { grads } = await model.computeGradients(x, y, { threads: 1 });
  const weights = model.getWeights();
  const lossAt = async (name: string, i: number, v: number) => {
    const w = weights[name].data.slice();
    w[i] = v;
    model.setWeights({ [name]: w });
    const { loss } = await model.computeGradients(x, y, { threads: 1 });
    model.setWeights({ [name]: weights[name].data });
    return loss;
  };
  for (const [name, g] of Object.entries(grads)) {
    const scale = g.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const step = Math.max(1, Math.floor(g.data.length / coords));
    for (let i = 0; i < g.data.length; i += step) {
      const w = weights[name].data[i];
      const numeric = ((await lossAt(name, i, w + h)) - (await lossAt(name, i, w - h))) / (2 * h);
      expect(Math.abs(numeric - g.data[i]), `${name}[${i}]: analytic ${g.data[i]}, numeric ${numeric}`).toBeLessThanOrEqual(2e-2 * scale + 2e-4);
    }
  }
}
