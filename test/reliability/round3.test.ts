// Reliability, round three (issue 28): saves that cannot tear, outputs that cannot clobber
// inputs, folders that cannot loop, runs that cannot mix, numbers that must fit float32, and
// sizes checked before memory is taken. Each test builds its own crafted files and folders.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Adam, ArgumentError, convNet, DataFileError, loadImageFolder, ModelFileError, SGD, type Tensor } from '../../src/index.js';
import { decodeImage, loadImages } from '../../src/data/images.js';
import { loadSigns } from '../../src/data/signs.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { sharedDir, signsDir } from '../helpers/goldens.js';
import { jpegClaiming } from './crafted.js';
import { scratchDir } from '../helpers/scratch.js';

const cli = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
function run(...args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr.trim(), ms: Date.now() - t0 };
}
const photos = join(sharedDir, 'data/signs/jpeg/test_signs');
// A class-folder set of `per` SIGNS photos in each of 6 classes.
function photoFolder(name: string, per: number): string {
  const dir = join(work, name);
  const count: Record<string, number> = {};
  for (const f of readdirSync(photos).sort()) {
    if ((count[f[0]] = (count[f[0]] ?? 0) + 1) > per) continue;
    mkdirSync(join(dir, f[0]), { recursive: true });
    copyFileSync(join(photos, f), join(dir, f[0], f));
  }
  return dir;
}

const work = scratchDir('simdnet-round3-');
const data = await loadSigns(signsDir);
const flat = (w: Record<string, Tensor>) => Object.keys(w).sort().map((k) => Array.from(w[k].data)).flat();

describe('saves during fit', () => {
  test('saveModel in a tight loop during a two-thread fit: every file loads and holds the weights of one step', async () => {
    const model = convNet({ seed: 2 });
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'softmaxCrossEntropy' });
    // The weights after every step, read where they are whole (a callback between steps).
    const steps: number[][] = [flat(model.getWeights())];
    let saving = true, saved = 0;
    const files: string[] = [];
    const saver = (async () => {
      while (saving) {
        const file = join(work, `during-${saved++}.h5`);
        await saveModel(model, file);
        files.push(file);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await model.fit(data.train.x.slice(0, 512), data.train.y.slice(0, 512), {
      epochs: 3, batchSize: 16, verbose: 0, threads: 2,
      callbacks: { onBatchEnd: () => { steps.push(flat(model.getWeights())); } },
    });
    saving = false;
    await saver;
    expect(files.length).toBeGreaterThan(20);
    const known = new Map(steps.map((w, i) => [w.join(','), i]));
    const matched = new Set<number>();
    for (const f of files) {
      const { model: back } = await loadModel(f);
      const step = known.get(flat(back.getWeights()).join(','));
      expect(step, `${f} holds the weights of no step`).toBeDefined();
      matched.add(step!);
      await back.dispose();
    }
    // The saves landed between different steps, not all before or after the fit.
    expect(matched.size).toBeGreaterThan(5);
    await model.dispose();
  });

  test('a synchronous read of the weights while a step runs is refused with a message, not torn', async () => {
    const model = convNet({ seed: 3 });
    model.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const fit = model.fit(data.train.x.slice(0, 256), data.train.y.slice(0, 256), { epochs: 2, batchSize: 64, verbose: 0, threads: 2 });
    let refusal: unknown;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      await new Promise((r) => setTimeout(r, 1));
      try {
        model.getWeights();
      } catch (err) {
        refusal = err;
      }
    }
    await fit;
    expect(refusal).toBeInstanceOf(ArgumentError);
    expect((refusal as Error).message).toMatch(/^simdnet: getWeights: a step of model "ConvNet" is under way .*\(saveModel, saveOnnx and loadWeights wait/);
    expect(() => model.getWeights()).not.toThrow();
    await model.dispose();
  });
});

describe('numbers that must fit float32', () => {
  test('a diverged model is not saved over a good file', async () => {
    const model = convNet({ seed: 4 });
    model.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'softmaxCrossEntropy' });
    const file = join(work, 'good.h5');
    await saveModel(model, file);
    const w = model.getWeights();
    w['W1/kernel'].data[5] = Infinity;
    // setWeights refuses a non-finite value; a diverged step writes one through the optimizer.
    model.core.runtime.f32(model.core.params, 16)[5] = -Infinity;
    await expect(saveModel(model, file)).rejects.toThrow(ModelFileError);
    await expect(saveModel(model, file)).rejects.toThrow(/not writing .*good\.h5: weight "W1\/kernel" holds a non-finite value \(-Infinity\) at index 5; training diverged/);
    const { model: back } = await loadModel(file);
    expect(flat(back.getWeights()).every(Number.isFinite)).toBe(true);
    await back.dispose();
    await model.dispose();
  });
});

describe('outputs never clobber inputs or special files', () => {
  const model = join(work, 'export-in.h5');
  test('export --out the input model (directly or through a link), a FIFO, a device or a missing folder: refused, the input intact', async () => {
    await saveModel(convNet({ seed: 1 }), model);
    const before = readFileSync(model);
    const link = join(work, 'link-to-input.onnx');
    symlinkSync(model, link);
    const fifo = join(work, 'out.fifo');
    spawnSync('mkfifo', [fifo]);
    const cases: [string, RegExp][] = [
      [model, /--out .*export-in\.h5: the same file as the input .*; writing it would destroy the input/],
      [link, /link-to-input\.onnx: the same file as the input/],
      [fifo, /out\.fifo: a named pipe; simdnet writes regular files only/],
      ['/dev/null', /--out \/dev\/null: a device; simdnet writes regular files only/],
      [join(model, 'x.onnx'), /export-in\.h5 is not a folder/],
      [join(work, 'missing', 'x.onnx'), /its folder .*missing does not exist/],
    ];
    for (const [out, message] of cases) {
      const r = run('export', model, '--out', out);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^simdnet: /);
      expect(r.err).toMatch(message);
      expect(r.err.split('\n')).toHaveLength(1);
    }
    expect(readFileSync(model).equals(before)).toBe(true);
    expect((await loadModel(model)).model.name).toBe('ConvNet');
    // A regular file of another name is replaced as asked.
    expect(run('export', model, '--out', join(work, 'fine.onnx')).code).toBe(0);
  });
});

describe('folder walks', () => {
  test('a link to "." inside a class folder adds nothing; a link to ".." is refused, naming it', async () => {
    const dir = photoFolder('links-dot', 2);
    symlinkSync('.', join(dir, '0', 'again'));
    const r = await loadImageFolder(dir, { threads: 1 });
    expect(r.images.size).toBe(12);
    symlinkSync('..', join(dir, '1', 'up'));
    await expect(loadImageFolder(dir, { threads: 1 })).rejects.toThrow(/^simdnet: .*links-dot\/1\/up: a symbolic link that leads outside the class folder .*links-dot\/1 .*--follow-links/);
  });

  test('two links that loop, and a class folder that is a link to /, are refused within 5 s', async () => {
    const dir = photoFolder('links-loop', 2);
    symlinkSync(join(dir, '0', 'b'), join(dir, '0', 'a'));
    symlinkSync(join(dir, '0', 'a'), join(dir, '0', 'b'));
    let t0 = Date.now();
    await expect(loadImageFolder(dir, { threads: 1 })).rejects.toThrow(/links-loop\/0\/a: a symbolic link that loops/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const root = photoFolder('links-root', 2);
    symlinkSync('/', join(root, 'everything'));
    t0 = Date.now();
    const r = run('train', '--model', 'convnet', '--epochs', '1', '--data', root, '--out', join(work, 'links-root-run'), '--quiet');
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^simdnet: class folder .*links-root\/everything is a symbolic link that leads outside the image folder .* \(to \/\)/);
    expect(r.ms).toBeLessThan(5000);
  });
});

describe('run folders', () => {
  test('a second train into a folder that a running train holds is refused within 1 s; a dead run\'s lock is taken over', async () => {
    const out = join(work, 'locked');
    const first = spawn(process.execPath, [cli, 'train', '--model', 'convnet', '--epochs', '50', '--threads', '1', '--data', signsDir, '--out', out, '--quiet']);
    // Wait until the first run holds the lock.
    for (let i = 0; i < 100 && !existsSync(join(out, '.simdnet.lock')); i++) await new Promise((r) => setTimeout(r, 100));
    const second = run('train', '--model', 'convnet', '--epochs', '1', '--data', signsDir, '--out', out, '--quiet', '--force');
    expect(second.code).toBe(1);
    expect(second.err).toMatch(new RegExp(`^simdnet: the output folder .*locked is in use by another simdnet run \\(process ${first.pid}\\)`));
    expect(second.ms).toBeLessThan(1000 + 1500); // process start-up included
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // The lock of the killed run stays behind; the next run takes it over.
    expect(readFileSync(join(out, '.simdnet.lock'), 'utf8').trim()).toBe(String(first.pid));
    const third = run('train', '--model', 'convnet', '--epochs', '1', '--threads', '1', '--data', signsDir, '--out', out, '--quiet', '--force');
    expect(third.code, third.err).toBe(0);
    expect(third.out).toMatch(new RegExp(`Taking over the lock of .*locked from process ${first.pid}, which is no longer running`));
    expect(existsSync(join(out, '.simdnet.lock'))).toBe(false);
  });

  test('Ctrl-C while the images load says that nothing was written', async () => {
    // Loading that takes seconds: 240 photos of 1200x1200 (one, encoded once, copied), 0.3 s each.
    const dir = join(work, 'slow-load');
    const { default: jpeg } = await import('jpeg-js');
    const side = 1200, rgba = Buffer.alloc(side * side * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 2654435761) >>> 24;
    const big = jpeg.encode({ data: rgba, width: side, height: side }, 90).data;
    for (let c = 0; c < 2; c++) {
      mkdirSync(join(dir, `c${c}`), { recursive: true });
      for (let k = 0; k < 120; k++) writeFileSync(join(dir, `c${c}`, `${k}.jpg`), big);
    }
    const out = join(work, 'interrupted-load');
    const child = spawn(process.execPath, [cli, 'train', '--model', 'convnet', '--data', dir, '--out', out, '--threads', '1', '--quiet']);
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    // The lock is taken just before the signal handlers go in, in the same turn: once it is there,
    // Ctrl-C is the run's to handle (a signal before would kill a process still starting).
    for (let i = 0; i < 200 && !existsSync(join(out, '.simdnet.lock')); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const t0 = Date.now();
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(130);
    // The loading stopped, rather than running to its end (about 36 s on 2 cores).
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toMatch(/simdnet: interrupted while reading the images, before training began; nothing was written/);
    expect(existsSync(join(out, 'model.h5'))).toBe(false);
  });
});

test('Ctrl-C after training, during the evaluations and the robustness suite, stops there and says what model.h5 holds', async () => {
  const train = photoFolder('after-train', 2), test = photoFolder('after-test', 20);
  const out = join(work, 'interrupted-after');
  const child = spawn(process.execPath, [cli, 'train', '--model', 'resnet50', '--epochs', '1', '--batch-size', '6', '--threads', '2', '--data', train, '--test', test, '--out', out]);
  let stdout = '', stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // The epoch's line is printed when it ends; then come the evaluations (seconds for ResNet-50).
  await new Promise<void>((done) => child.stdout.on('data', (d) => {
    stdout += d;
    if (/2\/2 \[=+\]/.test(stdout)) done();
  }));
  child.kill('SIGINT');
  const t0 = Date.now();
  const code = await new Promise((r) => child.once('exit', r));
  expect(code, stderr).toBe(130);
  expect(stderr).toMatch(/simdnet: interrupted after training; .*model\.h5 holds the trained model, but the history and the report were not written/);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(existsSync(join(out, 'model.h5'))).toBe(true);
  expect(existsSync(join(out, 'report.html'))).toBe(false);
});

describe('sizes checked before memory is taken', () => {
  test('a model builder asked for 100000x100000 images refuses at once', () => {
    const t0 = Date.now();
    expect(() => convNet({ inputShape: [100000, 100000, 3] })).toThrow(/^simdnet: model "ConvNet" takes inputs of \(100000, 100000, 3\), 30,000,000,000 values per sample, over the limit/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('a 1 KB JPEG declaring 7000x7000 is refused from its header, under 100 MB; the budget can be raised', () => {
    const jpg = join(work, 'bomb.jpg');
    const real = readFileSync(join(photos, readdirSync(photos).sort()[0]));
    writeFileSync(jpg, jpegClaiming(real, 7000, 7000));
    const before = process.memoryUsage().rss;
    expect(() => decodeImage(jpg)).toThrow(/^simdnet: image .*bomb\.jpg declares 7000x7000 pixels, which would take about 748 MiB to decode, over the 256 MiB budget/);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
    const r = run('predict', join(work, 'export-in.h5'), jpg);
    expect(r.err).toMatch(/over the 256 MiB budget \(raise it with --max-image-memory MB/);
    // Raised past it, the header is believed and the decoder finds the data short.
    expect(() => decodeImage(jpg, 2 ** 30)).toThrow(DataFileError);
  });

  test('loadImages with a size that is no size: a typed error', () => {
    expect(() => loadImages([join(photos, readdirSync(photos)[0])], -1, 64)).toThrow(ArgumentError);
    expect(() => loadImages([], 64, 1.5)).toThrow(/^simdnet: loadImages: height and width must be whole numbers from 1 to 4096, got -?\d/);
  });
});

describe('flags checked before work', () => {
  test('--lr beyond float32, --validation-split 1.5, --initial-weights of another architecture, --freeze-until the last layer', async () => {
    const big = run('train', '--model', 'convnet', '--lr', '1e300', '--data', signsDir, '--out', join(work, 'lr'));
    expect(big.code).toBe(2);
    expect(big.err).toBe('simdnet: --lr 1e300 is too large for float32, in which training computes (about 1.2e-38 to 3.4e38)');
    expect(() => new Adam({ learningRate: 1e300 })).toThrow(/learningRate 1e\+300 is too large for float32/);
    const dir = photoFolder('split', 40);
    const split = run('train', '--model', 'convnet', '--data', dir, '--validation-split', '1.5', '--out', join(work, 'split-run'));
    expect(split.code).toBe(2);
    expect(split.err).toBe('simdnet: --validation-split must be between 0 and 1, got 1.5');
    expect(split.ms).toBeLessThan(3000);
    const resnet = join(work, 'resnet.h5');
    const { resNet50 } = await import('../../src/index.js');
    await saveModel(resNet50({ seed: 0 }), resnet);
    const other = run('train', '--model', 'convnet', '--epochs', '1', '--initial-weights', resnet, '--data', signsDir, '--out', join(work, 'other'), '--quiet');
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/^simdnet: --initial-weights .*resnet\.h5: none of its weights fit this convnet model/);
    const frozen = run('train', '--model', 'convnet', '--epochs', '1', '--freeze-until', 'fc', '--data', signsDir, '--out', join(work, 'frozen'), '--quiet');
    expect(frozen.code).toBe(2);
    expect(frozen.err).toBe('simdnet: --freeze-until fc: no layer after it has weights to train; freeze up to an earlier layer');
  });
});

describe('predict over a folder', () => {
  test('streams in batches: every image printed once, as valid JSON, in order', async () => {
    const dir = photoFolder('many', 20);
    for (const c of readdirSync(dir)) for (const f of readdirSync(join(dir, c))) for (let k = 0; k < 5; k++) copyFileSync(join(dir, c, f), join(dir, c, `${k}-${f}`));
    const model = join(work, 'export-in.h5');
    const r = run('predict', model, dir, '--json');
    expect(r.code, r.err).toBe(0);
    const parsed = JSON.parse(r.out) as { image: string }[];
    expect(parsed.length).toBe(6 * 20 * 6);
    expect(parsed.map((p) => p.image)).toEqual([...parsed.map((p) => p.image)].sort());
    expect(new Set(parsed.map((p) => p.image)).size).toBe(parsed.length);
  });
});

describe('library writes', () => {
  test('saveModel to a FIFO or into a missing folder: refused before writing, the FIFO still a FIFO', async () => {
    const { statSync } = await import('node:fs');
    const fifo = join(work, 'model.fifo');
    spawnSync('mkfifo', [fifo]);
    const m = convNet({ seed: 1 });
    await expect(saveModel(m, fifo)).rejects.toThrow(/^simdnet: cannot write .*model\.fifo: a named pipe; simdnet writes regular files only$/);
    expect(statSync(fifo).isFIFO()).toBe(true);
    await expect(saveModel(m, join(work, 'nowhere', 'm.h5'))).rejects.toThrow(/^simdnet: cannot write .*nowhere\/m\.h5: its folder .*nowhere does not exist$/);
  });

  test('a failed HDF5 write is named by its cause, not by the HDF5 diagnostic stack', async () => {
    const { writeFailure } = await import('../../src/platform/node-files.js');
    const diag = 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: H5Fint.c line 1 in H5F_flush(): low-level flush failed\n    major: Low-level I/O\n    minor: Write failed\n  #001: H5FDsec2.c line 2: file write failed: errno = 28, error message = \'No space left on device\'\n    major: Low-level I/O\n    minor: Write failed';
    expect(writeFailure(new Error(diag))).toBe('the disk is full');
    expect(writeFailure(new Error('HDF5-DIAG: Error detected\n    minor: Unable to open file'))).toBe('Unable to open file');
    expect(writeFailure(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('the disk is full');
  });
});
