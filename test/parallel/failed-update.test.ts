// A worker that dies after the gradient barrier must leave the model exactly as before the step
// (if not every worker had passed it yet) or exactly as after it (the main thread finishes the
// update from where each worker stopped): never some slices updated and others not.
import { expect, test } from 'vitest';
import { resNet50, WorkerFailure, type Model, type Tensor } from '../../src/index.js';
import { loadSigns } from '../../src/data/signs.js';
import { signsDir } from '../helpers/goldens.js';

const data = await loadSigns(signsDir);
const x = data.train.x.slice(0, 4), y = data.train.y.slice(0, 4);

function make(): Model {
  const m = resNet50({ seed: 1 });
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return m;
}

function state(m: Model): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(m.getWeights())) out[k] = t.data;
  return { ...out, ...m.getOptimizerState() };
}

function expectSame(a: Record<string, Float32Array>, b: Record<string, Float32Array>): void {
  const differ = Object.keys(b).filter((k) => Buffer.compare(Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength), Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength)) !== 0);
  expect(differ).toEqual([]);
}

// One clean step on two workers, and the state before and after it.
const reference = make();
const before = state(reference);
await reference.trainOnBatch(x, y, { threads: 2 });
const after = state(reference);
await reference.dispose();

async function stepWithFault(fault: string) {
  process.env.SIMDNET_TEST_FAULT = fault;
  const m = make();
  try {
    const err = await m.trainOnBatch(x, y, { threads: 2 }).then(() => null, (e: unknown) => e);
    return { err: err as WorkerFailure, state: state(m), iterations: m.optimizer!.iterations, model: m };
  } finally {
    delete process.env.SIMDNET_TEST_FAULT;
  }
}

test.each([
  ['after its slice was staged but not copied back', 'staged:1:100'],
  ['after a chunk was committed', 'committed:0:37'],
  ['on its first chunk', 'staged:0:0'],
])('a worker that dies in the update %s: the main thread finishes it; the model is exactly as after the step', async (_, fault) => {
  const r = await stepWithFault(fault);
  expect(r.err).toBeInstanceOf(WorkerFailure);
  expect(r.err.stepApplied).toBe(true);
  expect(r.err.message).toMatch(/worker [01] failed in the update: .*completed on the main thread/);
  expectSame(r.state, after);
  expect(r.iterations).toBe(1);
  // The model trains on, with a new pool.
  expect(Number.isFinite((await r.model.trainOnBatch(x, y, { threads: 2 })).loss)).toBe(true);
  await r.model.dispose();
});

test('a worker that dies between the gradient barrier and the update barrier: no thread has updated anything; the model is exactly as before', async () => {
  const r = await stepWithFault('gradients:1:0');
  expect(r.err).toBeInstanceOf(WorkerFailure);
  expect(r.err.stepApplied).toBe(false);
  expect(r.err.message).toMatch(/worker [01] failed in the gradient reduction: .*left as before it/);
  expectSame(r.state, before);
  expect(r.iterations).toBe(0);
  await r.model.dispose();
});
