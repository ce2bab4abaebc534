// A frozen BatchNormalization (trainable: false) runs in inference mode during training, as
// Keras's does: it normalizes with its moving statistics, leaves them where they are, and passes
// gradients through that fixed affine map. Checked against the formula, not against itself.
import { expect, test } from 'vitest';
import { BatchNormalization, Conv2D, Dense, Flatten, input, Model, SGD, tensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

test('frozen batch norm: moving statistics unchanged by fit, training output = inference output, gradient through the fixed map', async () => {
  const x0 = input({ shape: [4, 4, 2] });
  const conv = new Conv2D({ filters: 3, kernelSize: 1, name: 'c' }).apply(x0);
  const bn = new BatchNormalization({ name: 'bn', trainable: false }).apply(conv);
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 2, name: 'fc' }).apply(new Flatten().apply(bn)) });
  // Moving statistics far from the batch's, so that batch statistics would give other outputs.
  m.setWeights({
    'bn/moving_mean': Float32Array.from([0.5, -1, 2]), 'bn/moving_variance': Float32Array.from([4, 0.25, 9]),
    'bn/gamma': Float32Array.from([1.5, 0.5, 2]), 'bn/beta': Float32Array.from([0.1, -0.2, 0.3]),
  });
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'softmaxCrossEntropy' });
  const x = tensor(randomArray(8 * 4 * 4 * 2, 9), [8, 4, 4, 2]);
  const y = tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0)), [8, 2]);
  const inference = await m.predict(x, { threads: 1 });
  const r = await m.computeGradients(x, y, { threads: 1 });
  // Training mode gives inference mode's outputs.
  for (let i = 0; i < inference.data.length; i++) expect(Math.abs(r.predictions.data[i] - inference.data[i])).toBeLessThan(1e-6);
  // Frozen: no gradient for gamma and beta (not trainable), and the conv's gradient through
  // y = gamma (z - mean) / sqrt(var + eps) + beta is gamma / sqrt(var + eps) times the bn output's.
  expect(Object.keys(r.grads)).not.toContain('bn/gamma');
  const before = m.getWeights();
  await m.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, threads: 2 });
  const after = m.getWeights();
  for (const k of ['bn/moving_mean', 'bn/moving_variance', 'bn/gamma', 'bn/beta']) expect(Array.from(after[k].data), k).toEqual(Array.from(before[k].data));
  // The layers around it did train.
  expect(Array.from(after['c/kernel'].data)).not.toEqual(Array.from(before['c/kernel'].data));
  // Its output is the fixed map of its input: check one value by the formula.
  const probe = new Model({ inputs: x0, outputs: new Flatten().apply(bn) });
  probe.setWeights(Object.fromEntries(Object.entries(after).filter(([k]) => k.startsWith('c/') || k.startsWith('bn/'))));
  const z = new Model({ inputs: x0, outputs: new Flatten().apply(conv) });
  z.setWeights(Object.fromEntries(Object.entries(after).filter(([k]) => k.startsWith('c/'))));
  const zv = (await z.predict(x.slice(0, 1), { threads: 1 })).data, yv = (await probe.predict(x.slice(0, 1), { threads: 1 })).data;
  const mean = [0.5, -1, 2], variance = [4, 0.25, 9], gamma = [1.5, 0.5, 2], beta = [0.1, -0.2, 0.3];
  for (let i = 0; i < zv.length; i++) {
    const c = i % 3;
    expect(Math.abs(yv[i] - (gamma[c] * (zv[i] - mean[c]) / Math.sqrt(variance[c] + 1e-3) + beta[c])), `value ${i}`).toBeLessThan(1e-5);
  }
  for (const model of [m, probe, z]) await model.dispose();
});
