// Bad input given to the library: each refused with a clear simdnet error, before it can take
// memory or time, and never reported as a result.
import { readFileSync, writeFileSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import h5wasm from 'h5wasm/node';
import {
  ArgumentError, convNet, DataFileError, Dense, Flatten, input, Model, ModelFileError, NonFiniteLossError, NonFiniteOutputError,
  ReLU, tensor, type Layer, type SymbolicTensor,
} from '../../src/index.js';
import { decodeImage } from '../../src/data/images.js';
import { loadSignsFile } from '../../src/data/signs.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { randomArray } from '../helpers/assert.js';
import { signsDir } from '../helpers/goldens.js';
import { editJsonAttribute, flipBitIn, pngClaiming, replaceFirstValue, signsFile, sparseSignsFile } from './crafted.js';
import { scratchDir } from '../helpers/scratch.js';

const work = scratchDir('simdnet-reliability-');
const rssMiB = () => process.resourceUsage().maxRSS / 1024;

// Runs `fn`, which must throw `kind` matching `message`, within `ms` and without the process's
// peak memory passing `mib`.
async function refused(fn: () => unknown, kind: new (...a: any[]) => Error, message: RegExp, ms = 5000, mib = 500): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = performance.now();
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'no error').toBeInstanceOf(kind);
  expect((err as Error).message).toMatch(/^simdnet: /);
  expect((err as Error).message).toMatch(message);
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(rssMiB()).toBeLessThan(mib);
}

describe('images', () => {
  test('a 69-byte PNG that claims 30000x30000 pixels is refused from its header', async () => {
    const bomb = join(work, 'bomb.png');
    writeFileSync(bomb, pngClaiming(30000, 30000));
    expect(readFileSync(bomb).length).toBeLessThan(100);
    await refused(() => decodeImage(bomb), DataFileError, /bomb\.png is too large \(30000x30000 pixels/, 1000);
  });

  test('a named pipe, a link to /dev/zero and a folder are refused without being opened', async () => {
    const fifo = join(work, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    await refused(() => decodeImage(fifo), DataFileError, /fifo\.jpg: a named pipe, not a regular file/, 1000);
    const zero = join(work, 'zero.jpg');
    symlinkSync('/dev/zero', zero);
    await refused(() => decodeImage(zero), DataFileError, /zero\.jpg: a device, not a regular file/, 1000);
    await refused(() => decodeImage(work), DataFileError, /a folder, not a file/, 1000);
  });
});

describe('data files', () => {
  test('int64 and uint64 labels past 2^31 are refused on their full value, not wrapped', async () => {
    const a = join(work, 'int64.h5'), b = join(work, 'uint64.h5');
    await signsFile(a, 'train_set', 2, BigInt64Array.from([1n, 2n ** 32n]));
    await refused(() => loadSignsFile(a, 'train_set'), DataFileError, /label 4294967296 of image 1 is out of range/);
    await signsFile(b, 'train_set', 2, BigUint64Array.from([2n ** 63n + 1n, 0n]));
    await refused(() => loadSignsFile(b, 'train_set'), DataFileError, /label 9223372036854775809 of image 0 is out of range/);
  });

  test('SIGNS pixels stay uint8; fit and evaluate turn into float32 only the rows of each batch', async () => {
    const { loadSigns } = await import('../../src/data/signs.js');
    const { train, test } = await loadSigns(signsDir);
    expect(train.pixels).toBeInstanceOf(Uint8Array);
    const m = convNet({ seed: 1 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
    const small = train.slice(0, 64);
    await m.fit(small, { epochs: 1, batchSize: 32, verbose: 0, threads: 1, validationData: test.slice(0, 16) });
    const logs = await m.evaluate(small, { threads: 1 });
    // The same figures as from float32 tensors of the same images.
    const again = await m.evaluate(small.x, small.y, { threads: 1 });
    expect(again.loss).toBeCloseTo(logs.loss, 6);
    expect((train as unknown as { cachedX?: unknown }).cachedX).toBeUndefined();
  });

  test('a small sparse file declaring 100,000 images is refused before anything is read', async () => {
    const p = join(work, 'sparse.h5');
    await sparseSignsFile(p, 'train_set', 100_000);
    expect(readFileSync(p).length).toBeLessThan(200 * 1024);
    await refused(() => loadSignsFile(p, 'train_set'), DataFileError, /declares 100000 images \(1,228,800,000 bytes\), more than the [\d,]+-byte file holds/);
  });
});

describe('model files', () => {
  const saved = async (name: string, edit?: (m: Model) => void) => {
    const m = convNet({ seed: 1 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    edit?.(m);
    const p = join(work, name);
    await saveModel(m, p);
    return { m, p };
  };

  test('a config declaring a 100000x100000 input is refused before any allocation', async () => {
    const { p } = await saved('huge-input.h5');
    await editJsonAttribute(p, 'model_config', (c) => {
      c.config.layers[0].config.batch_input_shape = [null, 100000, 100000, 3];
      return c;
    });
    // The limit itself, not a later mismatch (deleting the check would still fail the load).
    await refused(() => loadModel(p), ModelFileError, /huge-input\.h5: the model takes inputs of \(100000, 100000, 3\), over the limit of 16,777,216 values per sample/);
  });

  test('an input layer without batch_input_shape, and an unknown layer class, are named', async () => {
    const { p } = await saved('no-shape.h5');
    await editJsonAttribute(p, 'model_config', (c) => {
      delete c.config.layers[0].config.batch_input_shape;
      return c;
    });
    await refused(() => loadModel(p), ModelFileError, /no-shape\.h5: model_config: input layer .*batchInputShape must be/);
    const { p: q } = await saved('unknown-class.h5');
    await editJsonAttribute(q, 'model_config', (c) => {
      c.config.layers[1].class_name = 'constructor';
      return c;
    });
    await refused(() => loadModel(q), ModelFileError, /unknown-class\.h5: model_config: unknown layer class "constructor"/);
  });

  test('non-finite weights are refused at load, naming the file and the weight', async () => {
    const { m, p } = await saved('nan.h5');
    writeFileSync(p, replaceFirstValue(readFileSync(p), m.getWeights()['fc/kernel'].data, NaN));
    await refused(() => loadModel(p), ModelFileError, /nan\.h5: weight "fc\/kernel" holds a non-finite value \(NaN\) at index 0/);
  });

  test('a flipped bit in a weight is caught by its checksum', async () => {
    const { m, p } = await saved('flipped.h5');
    writeFileSync(p, flipBitIn(readFileSync(p), m.getWeights()['W2/kernel'].data));
    await refused(() => loadModel(p), ModelFileError, /flipped\.h5: weight "W2\/kernel" does not match its checksum/);
  });

  test('a layer without weights lists none (an empty weight_names array), as Keras reads it', async () => {
    const { p } = await saved('keras.h5');
    await h5wasm.ready;
    const f = new h5wasm.File(p, 'r');
    const names = f.get('model_weights/flatten_1') ?? f.get(`model_weights/${(f.get('model_weights') as any).keys().find((k: string) => k.startsWith('flatten'))}`); // eslint-disable-line @typescript-eslint/no-explicit-any
    const attr = (names as any).attrs.weight_names; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(attr.shape).toEqual([0]);
    expect(Array.from(attr.value)).toEqual([]);
    expect(Array.from((f.get('model_weights/W1') as any).attrs.weight_names.value)).toEqual(['W1/kernel:0']); // eslint-disable-line @typescript-eslint/no-explicit-any
    f.close();
  });
});

describe('the API', () => {
  const m = convNet({ seed: 2 });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  const x = tensor(randomArray(4 * 64 * 64 * 3, 3).map((v) => (v + 1) / 2), [4, 64, 64, 3]);
  const y = tensor(Float32Array.from({ length: 24 }, (_, i) => (i % 6 === Math.floor(i / 6) ? 1 : 0)), [4, 6]);

  test('labels outside [0, 1], a negative initialEpoch, NaN weights, absurd thread counts', async () => {
    const bad = tensor(y.data.map((v, i) => (i === 0 ? -3 : v)), [4, 6]);
    await refused(() => m.fit(x, bad, { verbose: 0 }), ArgumentError, /y holds -3 at sample 0; labels are one-hot/);
    await refused(() => m.fit(x, y, { verbose: 0, initialEpoch: -3 }), ArgumentError, /initialEpoch must be a whole number >= 0, got -3/);
    await refused(() => m.setWeights({ 'fc/bias': new Float32Array(6).fill(NaN) }), ArgumentError, /weight "fc\/bias" holds a non-finite value \(NaN\) at index 0/);
    await refused(() => m.predict(x, { threads: 1000 }), ArgumentError, /threads must be at most 64, got 1000/);
    await refused(() => m.predict(x, { batchSize: NaN }), ArgumentError, /batchSize must be a positive integer, got NaN/);
  });

  test('inputs so large the outputs overflow are reported, not returned as probabilities', async () => {
    const huge = tensor(new Float32Array(4 * 64 * 64 * 3).fill(3e38), [4, 64, 64, 3]);
    await refused(() => m.predict(huge, { threads: 1 }), NonFiniteOutputError, /the model's output is (NaN|-?Infinity) for sample 0/);
    await refused(() => m.trainOnBatch(huge, y, { threads: 1 }), NonFiniteLossError, /the loss became NaN in trainOnBatch; the weights, optimizer state and moving statistics were left as before/);
  });

  test('two concurrent predict calls on one model with 2 workers each get their own, right answer', async () => {
    const a = x, b = tensor(x.data.map((v) => 1 - v), x.shape);
    const wantA = await m.predict(a, { threads: 1 }), wantB = await m.predict(b, { threads: 1 });
    const [gotA, gotB] = await Promise.all([m.predict(a, { threads: 2, batchSize: 2 }), m.predict(b, { threads: 2, batchSize: 2 })]);
    for (let i = 0; i < wantA.size; i++) {
      expect(Math.abs(gotA.data[i] - wantA.data[i])).toBeLessThan(1e-5);
      expect(Math.abs(gotB.data[i] - wantB.data[i])).toBeLessThan(1e-5);
    }
  });

  test('two concurrent fits take turns: the result equals the two run one after the other', async () => {
    const make = () => {
      const c = convNet({ seed: 4 });
      c.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
      return c;
    };
    const together = make(), apart = make();
    const xa = x, xb = tensor(x.data.map((v) => 1 - v), x.shape);
    await Promise.all([together.fit(xa, y, { verbose: 0, epochs: 2, threads: 2 }), together.fit(xb, y, { verbose: 0, epochs: 2, threads: 2 })]);
    await apart.fit(xa, y, { verbose: 0, epochs: 2, threads: 2 });
    await apart.fit(xb, y, { verbose: 0, epochs: 2, threads: 2 });
    const wa = together.getWeights(), wb = apart.getWeights();
    for (const k of Object.keys(wa)) expect(Array.from(wa[k].data), k).toEqual(Array.from(wb[k].data));
    expect(together.optimizer!.iterations).toBe(4);
    await Promise.all([together.dispose(), apart.dispose()]);
  });

  test('a callback of fit may call predict on the same model (it does not wait for itself)', async () => {
    let seen = 0;
    await m.fit(x, y, { verbose: 0, epochs: 1, threads: 1, callbacks: { onEpochEnd: async () => { seen = (await m.predict(x, { threads: 1 })).size; } } });
    expect(seen).toBe(24);
  });

  test('a chain of 10,000 layers builds and runs (graph walks do not recurse)', async () => {
    const x0 = input({ shape: [4] });
    let t: SymbolicTensor = x0;
    for (let i = 0; i < 10_000; i++) t = (new ReLU() as Layer).apply(t);
    const deep = new Model({ inputs: x0, outputs: new Dense({ units: 2 }).apply(new Flatten().apply(t)) });
    const out = await deep.predict(tensor(new Float32Array(8).fill(1), [2, 4]), { threads: 1 });
    expect(out.shape).toEqual([2, 2]);
    expect(Model.fromConfig(deep.getConfig()).layers).toHaveLength(deep.layers.length);
  });
});
