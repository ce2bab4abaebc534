import { describe, expect, test } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, input, LayerNormalization, Model, optimizers, tensor, convNet } from '../../src/index.js';
import { loadModel, loadWeights, saveModel } from '../../src/io/model-file.js';
import { randomArray } from '../helpers/assert.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('simdnet-io-');

function small(): Model {
  const x0 = input({ shape: [8, 8, 3] });
  // A layer norm over whole images: an axis list in the config, a gamma and beta of rank 3.
  let x = new LayerNormalization({ axis: [1, 2, 3], name: 'ln' }).apply(x0);
  x = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x);
  x = new BatchNormalization({ name: 'b1' }).apply(x);
  x = new Activation({ activation: 'relu' }).apply(x);
  const f = new Flatten().apply(x);
  const d = new Dense({ units: 3, name: 'd1' }).apply(f);
  const out = new Dense({ units: 3, activation: 'softmax', name: 'out' }).apply(d);
  const m = new Model({ inputs: x0, outputs: out, name: 'small' });
  m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

describe('model files', () => {
  const x = tensor(randomArray(5 * 8 * 8 * 3, 1), [5, 8, 8, 3]);
  const y = tensor(Float32Array.from({ length: 15 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [5, 3]);

  test('save then load: the same architecture, weights, optimizer state and predictions, bit for bit', async () => {
    const m = small();
    await m.trainOnBatch(x, y, { threads: 1 });
    await m.trainOnBatch(x, y, { threads: 1 });
    const path = join(dir, 'small.h5');
    await saveModel(m, path, { epochsDone: 2, history: { loss: [1, 0.5] }, seed: 3, batchSize: 5, modelName: 'small' });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const { model, training } = await loadModel(path);
    expect(model.getConfig()).toEqual(m.getConfig());
    expect(training).toEqual({ epochsDone: 2, history: { loss: [1, 0.5] }, seed: 3, batchSize: 5, modelName: 'small' });
    for (const [k, t] of Object.entries(m.getWeights())) expect(Array.from(model.getWeights()[k].data), k).toEqual(Array.from(t.data));
    expect(model.optimizer?.className).toBe('SGD');
    expect(model.optimizer?.iterations).toBe(2);
    const s1 = m.getOptimizerState(), s2 = model.getOptimizerState();
    for (const k of Object.keys(s1)) expect(Array.from(s2[k]), k).toEqual(Array.from(s1[k]));
    expect(Array.from((await model.predict(x, { threads: 1 })).data)).toEqual(Array.from((await m.predict(x, { threads: 1 })).data));
    // Training on continues identically.
    expect((await model.trainOnBatch(x, y, { threads: 1 })).loss).toBe((await m.trainOnBatch(x, y, { threads: 1 })).loss);
  });

  test('weights from a file of another architecture are refused, and change nothing', async () => {
    const path = join(dir, 'convnet.h5');
    await saveModel(convNet(), path);
    const m = small();
    const before = m.getWeights()['c1/kernel'].data.slice();
    await expect(loadWeights(m, path)).rejects.toThrow(/does not fit this model: it has no weight "ln\/gamma"/);
    expect(Array.from(m.getWeights()['c1/kernel'].data)).toEqual(Array.from(before));
  });

  test('a file that is not HDF5, or not a model', async () => {
    const junk = join(dir, 'junk.h5');
    writeFileSync(junk, 'not hdf5 at all');
    await expect(loadModel(junk)).rejects.toThrow(/junk\.h5: not a readable HDF5 file/);
    await expect(loadModel(join(dir, 'absent.h5'))).rejects.toThrow(/absent\.h5: no such file/);
  });
});
