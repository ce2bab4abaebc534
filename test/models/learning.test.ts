import { describe, expect, test } from 'vitest';
import { convNet, resNet50, optimizers } from '../../src/index.js';
import { loadSigns } from '../../src/data/signs.js';
import { signsDir } from '../helpers/goldens.js';

describe('learning on SIGNS', async () => {
  const data = await loadSigns(signsDir);

  test('ResNet-50 drives the training loss on 8 images close to zero', async () => {
    const model = resNet50({ seed: 1 });
    model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const x = data.train.x.slice(0, 8), y = data.train.y.slice(0, 8);
    const history = await model.fit(x, y, { epochs: 25, batchSize: 8, verbose: 0, threads: 1 });
    const loss = history.history.loss;
    expect(loss[0]).toBeGreaterThan(1);
    // Near zero from epoch 5, Adam on 8 images then spikes now and then (0.1-0.7 for an epoch
    // or two, then back under 0.01), and when depends on the kernels the machine measured its
    // way to: judge the last ten epochs together rather than the last one alone.
    const last = loss.slice(-10).sort((a, b) => a - b);
    expect(last[0]).toBeLessThan(0.01);
    expect(last[5]).toBeLessThan(0.1);
    expect(history.history.accuracy!.slice(-10).filter((a) => a === 1).length).toBeGreaterThanOrEqual(6);
  });

  test('the ConvNet gets well above chance (1/6) on the SIGNS training set in a few epochs', async () => {
    const model = convNet({ seed: 1 });
    model.compile({ optimizer: optimizers.adam({ learningRate: 0.009 }), loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
    const history = await model.fit(data.train.x, data.train.y, { epochs: 8, batchSize: 64, seed: 1, verbose: 0, threads: 1 });
    const acc = history.history.accuracy;
    expect(acc[acc.length - 1]).toBeGreaterThan(0.35);
    expect(history.history.loss[acc.length - 1]).toBeLessThan(history.history.loss[0]);
    const test = await model.evaluate(data.test.x, data.test.y, { threads: 1 });
    expect(test.accuracy).toBeGreaterThan(0.3);
  });

  test('the same seed gives the same weights and the same loss curve', async () => {
    const run = async () => {
      const model = convNet({ seed: 7 });
      model.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
      const h = await model.fit(data.train.x.slice(0, 256), data.train.y.slice(0, 256), { epochs: 2, batchSize: 64, seed: 3, verbose: 0, threads: 1 });
      return { loss: h.history.loss, w: model.getWeights()['fc/kernel'].data };
    };
    const a = await run(), b = await run();
    expect(a.loss).toEqual(b.loss);
    expect(Array.from(a.w)).toEqual(Array.from(b.w));
    const other = convNet({ seed: 8 }).getWeights()['W1/kernel'].data;
    expect(Array.from(other)).not.toEqual(Array.from(convNet({ seed: 7 }).getWeights()['W1/kernel'].data));
  });
});
