// The profiler measures one step after its warm-up steps, and only that step.
import { expect, test } from 'vitest';
import {
  Activation, ArgumentError, BatchNormalization, Conv2D, Dense, Flatten, input, MaxPooling2D, Model, profilePredictStep, profileTrainingStep, tensor,
} from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

function convRelu(): Model {
  const x0 = input({ shape: [12, 12, 3] });
  let x = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(x0);
  x = new Activation({ activation: 'relu', name: 'relu' }).apply(x);
  x = new MaxPooling2D({ poolSize: 3, name: 'pool' }).apply(x);
  x = new Flatten({ name: 'flatten' }).apply(x);
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(x) });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  return m;
}

const x = tensor(randomArray(8 * 12 * 12 * 3, 5), [8, 12, 12, 3]);
const y = tensor(Float32Array.from({ length: 8 * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [8, 3]);

test('warm-up steps are not counted: the same kernel calls and layers after one warm-up step or five', async () => {
  const m = convRelu();
  const calls = (p: Awaited<ReturnType<typeof profileTrainingStep>>) => Object.fromEntries(p.kernels.map((k) => [k.kernel, k.calls]));
  const one = await profileTrainingStep(m, x, y, { warmupSteps: 1 });
  const five = await profileTrainingStep(m, x, y, { warmupSteps: 5 });
  const byDefault = await profileTrainingStep(m, x, y);
  expect(calls(five)).toEqual(calls(one));
  expect(calls(byDefault)).toEqual(calls(one));
  expect(calls(one).conv2d_forward ?? calls(one).conv2d_direct_forward ?? calls(one).conv2d_winograd_forward).toBe(1);
  expect(calls(one).maxpool_forward).toBe(1);
  const passes = (p: typeof one) => p.layers.map((l) => `${l.layer} ${l.phase}`);
  expect(passes(five)).toEqual(passes(one));
  expect(passes(one).filter((s) => s === 'pool forward')).toHaveLength(1);
  // The loss of the measured step: no warm-up step changed the weights.
  expect(five.loss).toBe(one.loss);
});

test('a ReLU that the max pooling after it applies runs no kernel, and the profile says where it went', async () => {
  const p = await profileTrainingStep(convRelu(), x, y, { warmupSteps: 1 });
  const calls = Object.fromEntries(p.kernels.map((k) => [k.kernel, k.calls]));
  expect(calls.relu_forward).toBeUndefined();
  expect(calls.relu_backward).toBeUndefined();
  expect(p.layers.filter((l) => l.layer === 'relu').map((l) => l.kernel)).toEqual(['folded into pool', 'folded into pool']);
});

test('warmupSteps must be a whole number >= 1', async () => {
  const m = convRelu();
  for (const bad of [0, -1, 1.5, NaN]) {
    await expect(profileTrainingStep(m, x, y, { warmupSteps: bad })).rejects.toThrow(ArgumentError);
  }
});

test('an inference profile: forward passes only, what predict gives unchanged, fused layers named with their convolution', async () => {
  const x0 = input({ shape: [12, 12, 3] });
  let h = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(x0);
  h = new Activation({ activation: 'relu', name: 'relu' }).apply(new BatchNormalization({ name: 'bn' }).apply(h));
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(new Flatten({ name: 'flatten' }).apply(h)) });
  const before = (await m.predict(x)).data;
  const p = await profilePredictStep(m, x, { warmupSteps: 1 });
  expect(p.loss).toBe(0);
  expect(p.layers.every((l) => l.phase === 'forward')).toBe(true);
  expect(p.layers.filter((l) => l.layer === 'bn' || l.layer === 'relu').map((l) => l.kernel)).toEqual(['fused into conv', 'fused into conv']);
  expect((await m.predict(x)).data).toEqual(before);
  await expect(profilePredictStep(m, x, { warmupSteps: 0 })).rejects.toThrow(ArgumentError);
});
