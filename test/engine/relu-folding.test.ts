// A ReLU whose only reader is max pooling (or global max pooling) is applied by the pool (Graph.foldedRelus): the step
// skips it, and its output and gradient share its input's buffers.
import { afterAll, describe, expect, test } from 'vitest';
import {
  Activation, Add, AveragePooling2D, Conv2D, Dense, Flatten, GlobalMaxPooling2D, input, MaxPooling2D, Model, convNet, resNet50, tensor, type Tensor,
} from '../../src/index.js';
import type { SymbolicTensor } from '../../src/layers/layer.js';
import { randomArray } from '../helpers/assert.js';

const relu = (name: string) => new Activation({ activation: 'relu', name });
const conv = (name: string) => new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', name });
const pool = (name = 'pool') => new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same', name });
const head = (x0: SymbolicTensor, x: SymbolicTensor) => {
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(new Flatten({ name: 'flatten' }).apply(x)) });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  return m;
};
const foldedNames = (m: Model) => {
  const f = m.graph.foldedRelus();
  return m.graph.nodes.filter((_, i) => f[i]).map((n) => n.layer.name);
};

describe('which ReLUs are folded', () => {
  test('the ConvNet: both, each into its max pooling', () => {
    const m = convNet();
    expect(foldedNames(m)).toHaveLength(2);
    for (const name of foldedNames(m)) {
      const i = m.graph.nodes.findIndex((n) => n.layer.name === name);
      expect(m.graph.nodes[m.graph.nodes[i].consumers[0]].layer.className).toBe('MaxPooling2D');
    }
  });

  test('ResNet-50: only the one before its max pooling (the others feed convolutions and adds)', () => {
    const m = resNet50();
    const names = foldedNames(m);
    expect(names).toHaveLength(1);
    const i = m.graph.nodes.findIndex((n) => n.layer.name === names[0]);
    expect(m.graph.nodes[m.graph.nodes[i].inputs[0]].layer.name).toBe('bn_conv1');
  });

  test('not when the ReLU or its input has another reader, when the reader is not a max pooling, or at the output', () => {
    const x0 = input({ shape: [8, 8, 3] });
    const c = conv('c').apply(x0);
    const r = relu('r').apply(c);
    const twoReaders = head(x0, new Add({ name: 'add' }).apply([pool('p1').apply(r), pool('p2').apply(r)]));
    expect(foldedNames(twoReaders)).toEqual([]);

    const y0 = input({ shape: [8, 8, 3] });
    const d = conv('d').apply(y0);
    const inputTwice = head(y0, new Add({ name: 'add' }).apply([pool().apply(relu('r').apply(d)), pool('p2').apply(d)]));
    expect(foldedNames(inputTwice)).toEqual([]);

    const z0 = input({ shape: [8, 8, 3] });
    expect(foldedNames(head(z0, new AveragePooling2D({ poolSize: 2, name: 'avg' }).apply(relu('r').apply(conv('e').apply(z0)))))).toEqual([]);

    const w0 = input({ shape: [4] });
    const atOutput = new Model({ inputs: w0, outputs: relu('r').apply(new Dense({ units: 3, name: 'fc' }).apply(w0)) });
    expect(foldedNames(atOutput)).toEqual([]);
  });
});

describe('a folded ReLU computes what the ReLU layer computes', () => {
  // The same function with the ReLU kept: a linear activation between it and the pool stops
  // the folding. Same weights, same batch: the same loss, outputs and gradients.
  const build = (keep: boolean) => {
    const x0 = input({ shape: [12, 12, 3] });
    let x = relu('r0').apply(x0); // straight off the input, which has no gradient
    if (keep) x = new Activation({ activation: 'linear', name: 'keep0' }).apply(x);
    x = new MaxPooling2D({ poolSize: 1, name: 'p0' }).apply(x);
    x = relu('r1').apply(conv('c1').apply(x));
    if (keep) x = new Activation({ activation: 'linear', name: 'keep1' }).apply(x);
    x = pool('p1').apply(x);
    x = relu('r2').apply(conv('c2').apply(x));
    if (keep) x = new Activation({ activation: 'linear', name: 'keep2' }).apply(x);
    x = pool('p2').apply(x);
    x = relu('r3').apply(conv('c3').apply(x));
    if (keep) x = new Activation({ activation: 'linear', name: 'keep3' }).apply(x);
    const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(new GlobalMaxPooling2D({ name: 'gmp' }).apply(x)) });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    return m;
  };
  const folded = build(false), kept = build(true);
  kept.setWeights(folded.getWeights());
  const x = tensor(randomArray(6 * 12 * 12 * 3, 61), [6, 12, 12, 3]);
  const y = tensor(Float32Array.from({ length: 6 * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [6, 3]);
  const unsign = (t: Tensor) => Array.from(t.data, (v) => (v === 0 ? 0 : v));
  afterAll(async () => { await folded.dispose(); await kept.dispose(); });

  test.each([1, 2])('on %i thread(s)', async (threads) => {
    expect(foldedNames(folded)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(foldedNames(kept)).toEqual([]);
    const a = await folded.computeGradients(x, y, { threads }), b = await kept.computeGradients(x, y, { threads });
    expect(a.loss).toBe(b.loss);
    expect(unsign(a.predictions)).toEqual(unsign(b.predictions));
    for (const name of Object.keys(b.grads)) expect(unsign(a.grads[name]), name).toEqual(unsign(b.grads[name]));
    expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
  });
});
