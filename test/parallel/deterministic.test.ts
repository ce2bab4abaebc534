// Deterministic mode: the batch is cut into a fixed number of shards whatever the number of
// threads, and every sum is taken in one fixed order, so the weights after any number of steps
// are the same bits on 1, 2 or 4 threads. (Without it they agree only to float rounding, which
// Adam amplifies: docs/parallel.md.)
import { expect, test } from 'vitest';
import { convNet, Dropout, Flatten, Dense, input, Model, MaxPooling2D, Conv2D, resNet50, type Tensor } from '../../src/index.js';
import { loadSigns } from '../../src/data/signs.js';
import { signsDir } from '../helpers/goldens.js';

const data = await loadSigns(signsDir);

const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

test('ResNet-50: weights and optimizer state after 3 Adam steps are bitwise equal on 1, 2 and 4 threads', async () => {
  const runs = [];
  for (const threads of [1, 2, 4]) {
    const m = resNet50({ seed: 3 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const losses = [];
    for (let step = 0; step < 3; step++) {
      const x = data.train.x.slice(8 * step, 8 * step + 8), y = data.train.y.slice(8 * step, 8 * step + 8);
      losses.push((await m.trainOnBatch(x, y, { threads, deterministic: true })).loss);
    }
    runs.push({ threads, losses, weights: m.getWeights(), state: m.getOptimizerState() });
    await m.dispose();
  }
  const [one, ...others] = runs;
  for (const r of others) {
    expect(r.losses, `${r.threads} threads`).toEqual(one.losses);
    const differ = Object.keys(one.weights).filter((k) => bytes(r.weights[k]).compare(bytes(one.weights[k])) !== 0);
    expect(differ, `${r.threads} threads`).toEqual([]);
    const stateDiffers = Object.keys(one.state).filter((k) => Buffer.compare(Buffer.from(r.state[k].buffer), Buffer.from(one.state[k].buffer)) !== 0);
    expect(stateDiffers, `${r.threads} threads`).toEqual([]);
  }
  // The steps did train: the weights moved.
  expect(one.losses[0]).not.toBe(one.losses[2]);
});

test('a batch smaller than the shard count, and a fit of uneven batches, are deterministic too', async () => {
  const fitOn = async (threads: number) => {
    const m = convNet({ seed: 1 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const h = await m.fit(data.train.x.slice(0, 70), data.train.y.slice(0, 70), { epochs: 2, batchSize: 32, verbose: 0, threads, deterministic: 5 });
    await m.trainOnBatch(data.train.x.slice(0, 3), data.train.y.slice(0, 3), { threads, deterministic: 5 });
    const w = m.getWeights();
    await m.dispose();
    return { loss: h.history.loss, w };
  };
  const a = await fitOn(1), b = await fitOn(2), c = await fitOn(3);
  for (const r of [b, c]) {
    expect(r.loss).toEqual(a.loss);
    for (const k of Object.keys(a.w)) expect(bytes(r.w[k]).compare(bytes(a.w[k])), k).toBe(0);
  }
});

test('Dropout draws its masks per sample, not per worker: 1 and 2 workers give the same first-epoch loss', async () => {
  const build = (dropout = true) => {
    const x0 = input({ shape: [64, 64, 3] });
    let x = new Conv2D({ filters: 8, kernelSize: 4, padding: 'same', activation: 'relu', name: 'c1' }).apply(x0);
    x = new MaxPooling2D({ poolSize: 8, padding: 'same' }).apply(x);
    x = new Flatten().apply(x);
    if (dropout) x = new Dropout({ rate: 0.5, name: 'drop' }).apply(x);
    const m = new Model({ inputs: x0, outputs: new Dense({ units: 6, name: 'fc' }).apply(x) });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    return m;
  };
  const losses = [];
  for (const threads of [1, 2]) {
    const m = build();
    const h = await m.fit(data.train.x.slice(0, 256), data.train.y.slice(0, 256), { epochs: 1, batchSize: 64, verbose: 0, threads });
    losses.push(h.history.loss[0]);
    // In inference Dropout is the identity: the same model without it, on the same weights, predicts the same.
    const plain = build(false);
    plain.setWeights(m.getWeights());
    const p1 = await m.predict(data.test.x.slice(0, 8), { threads }), p2 = await plain.predict(data.test.x.slice(0, 8), { threads });
    expect(Array.from(p1.data)).toEqual(Array.from(p2.data));
    await plain.dispose();
    await m.dispose();
  }
  expect(Math.abs(losses[0] - losses[1])).toBeLessThan(1e-5);
});

test('deterministic mode holds for computeGradients, evaluate and predict too: the same bits on 1 and 3 threads', async () => {
  const x = data.train.x.slice(0, 24), y = data.train.y.slice(0, 24);
  const runs = [];
  for (const threads of [1, 3]) {
    const m = resNet50({ seed: 6 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const g = await m.computeGradients(x, y, { threads, deterministic: true });
    const e = await m.evaluate(x, y, { threads, deterministic: true, batchSize: 12 });
    const p = await m.predict(x, { threads, deterministic: true, batchSize: 12 });
    runs.push({ g, e, p });
    await m.dispose();
  }
  const [a, b] = runs;
  expect(b.g.loss).toBe(a.g.loss);
  for (const k of Object.keys(a.g.grads)) expect(bytes(b.g.grads[k]).compare(bytes(a.g.grads[k])), k).toBe(0);
  expect(b.e).toEqual(a.e);
  expect(bytes(b.p).compare(bytes(a.p))).toBe(0);
});
