import { describe, expect, test } from 'vitest';
import { convNet, optimizers, tensor, Dense, input, Model, Conv2D, NonFiniteLossError, TensorDataset, type Tensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

const x = tensor(randomArray(8 * 64 * 64 * 3, 5).map((v) => (v + 1) / 2), [8, 64, 64, 3]);
const y = tensor(Float32Array.from({ length: 48 }, (_, i) => (i % 6 === Math.floor(i / 6) % 6 ? 1 : 0)), [8, 6]);

describe('the Keras-like API checks what it is given', () => {
  test('data of the wrong shape, non-finite values, mismatched labels', async () => {
    const m = convNet();
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
    await expect(m.fit(tensor(new Float32Array(8 * 32 * 32 * 3), [8, 32, 32, 3]), y)).rejects.toThrow(/x has shape \(8, 32, 32, 3\), the model takes \(N, 64, 64, 3\)/);
    const bad = x.data.slice();
    bad[5 * 64 * 64 * 3 + 7] = NaN;
    await expect(m.fit(tensor(bad, x.shape), y)).rejects.toThrow(/x holds a non-finite value \(NaN\) at sample 5/);
    // trainOnBatch checks x on the engine's copy of it: refused before any thread starts, the
    // model untouched, the engine still usable.
    const weights = m.getWeights();
    for (const threads of [1, 2]) {
      await expect(m.trainOnBatch(tensor(bad, x.shape), y, { threads })).rejects.toThrow(/trainOnBatch: x holds a non-finite value \(NaN\) at sample 5/);
      bad[5 * 64 * 64 * 3 + 7] = 0;
      bad[7 * 64 * 64 * 3 + 64 * 64 * 3 - 1] = -Infinity; // the last value of the batch
      await expect(m.trainOnBatch(tensor(bad, x.shape), y, { threads })).rejects.toThrow(/trainOnBatch: x holds a non-finite value \(-Infinity\) at sample 7/);
      bad[7 * 64 * 64 * 3 + 64 * 64 * 3 - 1] = 0;
      bad[5 * 64 * 64 * 3 + 7] = NaN;
      for (const [name, w] of Object.entries(m.getWeights())) expect(w.data, name).toEqual(weights[name].data);
    }
    await m.trainOnBatch(x, y, { threads: 2 });
    expect(m.getWeights()['fc/bias'].data).not.toEqual(weights['fc/bias'].data);
    await expect(m.fit(x, y.slice(0, 7))).rejects.toThrow(/x has 8 samples but y has 7/);
    await expect(m.evaluate(x, tensor(new Float32Array(80), [8, 10]))).rejects.toThrow(/y has shape \(8, 10\), the model outputs \(N, 6\)/);
    await expect(m.fit(x, y, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer, got 0/);
    await expect(convNet().fit(x, y)).rejects.toThrow(/needs a compiled model/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' })).toThrow(/needs a softmax output layer, but "fc" is not one/);
    expect(() => m.compile({ optimizer: 'adagrad' as never, loss: 'softmaxCrossEntropy' })).toThrow(/unknown optimizer "adagrad"/);
    expect(() => m.setWeights({ 'fc/kernel': new Float32Array(3) })).toThrow(/weight "fc\/kernel" has shape \(64, 6\), 384 values; got 3/);
    expect(() => m.setWeights({ 'nope/kernel': new Float32Array(3) })).toThrow(/has no weight "nope\/kernel"/);
    expect(() => m.getLayer('nope')).toThrow(/no layer named "nope"/);
  });

  test('layers refuse bad configurations and mismatched inputs', () => {
    expect(() => new Conv2D({ filters: 0, kernelSize: 3 })).toThrow(/filters must be a positive integer, got 0/);
    expect(() => new Conv2D({ filters: 4, kernelSize: [3, 5] })).toThrow(/kernelSize must be square/);
    expect(() => new Dense({ units: 4 }).apply(input({ shape: [8, 8, 3] }))).toThrow(/expects inputs of rank 2 \(batch, features\), got \(batch, 8, 8, 3\)/);
    const a = input({ shape: [4] });
    const out = new Dense({ units: 2, name: 'same' }).apply(new Dense({ units: 2, name: 'same' }).apply(a));
    expect(() => new Model({ inputs: a, outputs: out })).toThrow(/two layers are named "same"/);
  });

  test('a dataset that fails to read a batch stops fit with its error once the running step is done', async () => {
    const m = convNet({ seed: 2 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const tensors = new TensorDataset(x, y);
    // fit reads batch 3 (samples 4 and 5) while the workers run batch 2.
    const failing = Object.assign(Object.create(tensors) as TensorDataset, {
      read(indices: ArrayLike<number>, xb: Float32Array, yb?: Float32Array) {
        if (Array.from(indices).includes(4)) throw new Error('sample 4 is unreadable');
        tensors.read(indices, xb, yb);
      },
    });
    await expect(m.fit(failing, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0, threads: 2 })).rejects.toThrow('sample 4 is unreadable');
    expect(m.optimizer!.iterations).toBe(2);
    // The model and its workers go on.
    await m.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, threads: 2 });
    expect(m.optimizer!.iterations).toBe(4);
    await m.dispose();
  });

  for (const threads of [1, 2]) {
    test(`a loss that becomes NaN stops fit with an error and leaves the weights as before that batch (${threads} thread(s))`, async () => {
      const m = convNet({ seed: 2 });
      m.compile({ optimizer: optimizers.sgd({ learningRate: 1e30 }), loss: 'softmaxCrossEntropy' });
      let afterFirst: Record<string, Tensor> | undefined;
      const err = await m.fit(x, y, {
        epochs: 3, batchSize: 4, shuffle: false, verbose: 0, threads,
        callbacks: { onBatchEnd: () => { afterFirst ??= m.getWeights(); } },
      }).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      expect(err?.message).toMatch(/^simdnet: the loss became (NaN|Infinity) at epoch \d, batch \d; the weights, optimizer state and moving statistics were left as before that batch/);
      const now = m.getWeights();
      // The first batch's update was applied (and blew the weights up); the second changed nothing.
      expect(err?.message).toContain('epoch 1, batch 2');
      expect(m.optimizer!.iterations).toBe(1);
      for (const k of Object.keys(now)) expect(Array.from(now[k].data), k).toEqual(Array.from(afterFirst![k].data));
      await m.dispose();
    });
  }
});
