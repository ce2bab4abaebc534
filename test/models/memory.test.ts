// Memory a model's steps lay out is freed when they lay out again or the model's engines are
// disposed: a long-running program that profiles repeatedly, changes batch sizes or thread counts
// stays at its peak instead of growing.
import { expect, test } from 'vitest';
import { BatchNormalization, Conv2D, Dense, Flatten, input, MaxPooling2D, Model, profileTrainingStep, tensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';

function small(): Model {
  const x0 = input({ shape: [16, 16, 3] });
  let x = new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x0);
  x = new BatchNormalization({ name: 'bn' }).apply(x);
  x = new MaxPooling2D({ poolSize: 4 }).apply(x);
  x = new Flatten().apply(x);
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 4, name: 'fc' }).apply(x) });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  return m;
}

const data = (n: number) => ({
  x: tensor(randomArray(n * 16 * 16 * 3, n), [n, 16, 16, 3]),
  y: tensor(Float32Array.from({ length: n * 4 }, (_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0)), [n, 4]),
});

test('50 profiles of a training step: memory flat, and the model unchanged (weights and moving statistics)', async () => {
  const m = small();
  const { x, y } = data(16);
  const before = m.getWeights();
  await profileTrainingStep(m, x, y);
  const used = m.core.runtime.arena.used, bytes = m.core.runtime.memory.buffer.byteLength;
  for (let i = 0; i < 49; i++) await profileTrainingStep(m, x, y);
  expect(m.core.runtime.arena.used).toBe(used);
  expect(m.core.runtime.memory.buffer.byteLength).toBe(bytes);
  const after = m.getWeights();
  for (const k of Object.keys(before)) expect(Array.from(after[k].data), k).toEqual(Array.from(before[k].data));
});

test('alternating batch sizes, thread counts and deterministic mode: memory flat', async () => {
  const m = small();
  const sizes = [5, 32, 7, 64, 3];
  const round = async () => {
    for (const n of sizes) {
      const { x, y } = data(n);
      for (const threads of [1, 2]) {
        await m.trainOnBatch(x, y, { threads });
        await m.trainOnBatch(x, y, { threads, deterministic: true });
        await m.predict(x, { threads, batchSize: n });
      }
    }
    await m.dispose();
  };
  // The first round measures the convolution kernels of each new shape on scratch memory, which
  // leaves the free list shaped differently once; from the second round on, nothing may grow.
  await round();
  await round();
  const used = m.core.runtime.arena.used, live = m.core.runtime.arena.liveBytes, bytes = m.core.runtime.memory.buffer.byteLength;
  for (let i = 0; i < 4; i++) await round();
  expect(m.core.runtime.arena.liveBytes).toBe(live);
  expect(m.core.runtime.arena.used).toBe(used);
  expect(m.core.runtime.memory.buffer.byteLength).toBe(bytes);
});
