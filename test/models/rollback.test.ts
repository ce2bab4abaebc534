// A step whose loss is not finite leaves the model exactly as before it: the weights, the
// optimizer's state (SGD's momentum here), its step count and batch norm's moving statistics,
// which the step's forward pass had already moved. On one thread and on two.
import { describe, expect, test } from 'vitest';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, input, Model, NonFiniteLossError, SGD, tensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

function build(): Model {
  const x0 = input({ shape: [8, 8, 3] });
  let x = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }).apply(x0);
  x = new BatchNormalization({ name: 'bn' }).apply(x);
  x = new Activation({ activation: 'relu' }).apply(x);
  x = new Flatten().apply(x);
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(x) });
  // A rate that sends the first step's weights to about 1e30: the second step's loss is infinite.
  m.compile({ optimizer: new SGD({ learningRate: 1e30, momentum: 0.9 }), loss: 'softmaxCrossEntropy' });
  return m;
}

describe('a non-finite loss rolls the step back', () => {
  for (const threads of [1, 2]) {
    test(`weights, momentum, step count and moving statistics as after the last good step (${threads} thread(s))`, async () => {
      const m = build();
      const x = tensor(randomArray(8 * 8 * 8 * 3, 5), [8, 8, 8, 3]);
      const y = tensor(Float32Array.from({ length: 24 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [8, 3]);
      const first = await m.trainOnBatch(x, y, { threads });
      expect(Number.isFinite(first.loss)).toBe(true);
      const weights = m.getWeights(), state = m.getOptimizerState();
      // The first step moved the moving statistics (so that a second step would move them again).
      expect(Array.from(weights['bn/moving_mean'].data).some((v) => v !== 0)).toBe(true);
      const err = await m.trainOnBatch(tensor(x.data.map((v) => v * 3), x.shape), y, { threads }).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      const after = m.getWeights(), stateAfter = m.getOptimizerState();
      for (const k of Object.keys(weights)) expect(Array.from(after[k].data), k).toEqual(Array.from(weights[k].data));
      for (const k of Object.keys(state)) expect(Array.from(stateAfter[k]), k).toEqual(Array.from(state[k]));
      expect(m.optimizer!.iterations).toBe(1);
      await m.dispose();
    });
  }
});
