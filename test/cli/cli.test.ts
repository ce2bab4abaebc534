// The simdnet command line, run as real processes from dist/ (which `npm test` builds first).
import { describe, expect, test, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { signsDir } from '../helpers/goldens.js';
import { loadModel } from '../../src/io/model-file.js';
import { loadImages } from '../../src/data/images.js';
import { scratchDir } from '../helpers/scratch.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli/main.js');
const work = scratchDir('simdnet-cli-');
const jpeg = join(signsDir, 'jpeg/test_signs', readdirSync(join(signsDir, 'jpeg/test_signs')).sort()[0]);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 480_000, env: { ...process.env, SIMDNET_DATA: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectFailure(r: ReturnType<typeof run>, pattern: RegExp, outDir?: string) {
  expect(r.code, r.out).not.toBe(0);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  if (outDir) expect(existsSync(join(outDir, 'model.h5'))).toBe(false);
}

describe('train -> save -> evaluate -> predict -> resume', () => {
  const out = join(work, 'run'), resumed = join(work, 'resumed'), straight = join(work, 'straight');
  let train: ReturnType<typeof run>;

  beforeAll(() => {
    train = run('train', '--model', 'convnet', '--epochs', '2', '--threads', '1', '--data', signsDir, '--out', out);
  });

  test('train prints progress and the article\'s cost lines, and writes every output', () => {
    expect(train.code, train.err).toBe(0);
    expect(train.out).toMatch(/Epoch 1\/2\n17\/17 \[=+\] - /);
    expect(train.out).toMatch(/Cost after epoch 0: \d\.\d{6}/);
    // Two epochs of the tutorial's ConvNet learn something: above chance (1/6) on the test set.
    expect(Number(/Test accuracy: +(0\.\d+)/.exec(train.out)?.[1])).toBeGreaterThan(0.25);
    for (const f of ['model.h5', 'history.json', 'history.csv', 'loss.svg', 'accuracy.svg', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.history.loss).toHaveLength(2);
    expect(readFileSync(join(out, 'history.csv'), 'utf8').split('\n')[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,time');
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('Confusion matrix');
    expect(report).toMatch(/data:image\/png;base64,/);
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('evaluate prints loss, accuracy, per-class accuracy and the confusion matrix', () => {
    const r = run('evaluate', join(out, 'model.h5'), '--data', signsDir, '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/loss: \d\.\d{4}\naccuracy: 0\.\d{4}/);
    expect(r.out).toContain('confusion matrix');
    const rows = r.out.split('\n').filter((l) => /^\s+[0-5](\s+\d+){6}$/.test(l));
    expect(rows).toHaveLength(6);
    expect(rows.map((l) => l.trim().split(/\s+/).slice(1).reduce((a, b) => a + Number(b), 0)).reduce((a, b) => a + b)).toBe(120);
  });

  test('predict gives the sign and probabilities of a JPEG, as the reloaded model does', async () => {
    const r = run('predict', join(out, 'model.h5'), jpeg, '--json');
    expect(r.code, r.err).toBe(0);
    const [result] = JSON.parse(r.out);
    expect(Object.keys(result.probabilities)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(Object.values(result.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    const { model } = await loadModel(join(out, 'model.h5'));
    const probs = (await model.predictProbabilities(loadImages([jpeg], 64, 64), { threads: 1 })).data;
    const best = probs.indexOf(Math.max(...probs));
    expect(result.class).toBe(String(best));
    // Every probability as the model gives it, to the 4 decimals printed.
    for (let k = 0; k < 6; k++) expect(Math.abs(result.probabilities[String(k)] - probs[k]), `class ${k}`).toBeLessThanOrEqual(5e-5 + 1e-7);
    const text = run('predict', join(out, 'model.h5'), jpeg);
    expect(text.out).toMatch(new RegExp(`: ${best} \\(\\d+\\.\\d%\\)`));
  });

  test('a resumed run continues the loss curve exactly where an unbroken run goes', () => {
    const r = run('train', '--resume', join(out, 'model.h5'), '--epochs', '4', '--threads', '1', '--data', signsDir, '--out', resumed, '--quiet');
    expect(r.code, r.err).toBe(0);
    const s = run('train', '--model', 'convnet', '--epochs', '4', '--threads', '1', '--data', signsDir, '--out', straight, '--quiet');
    expect(s.code, s.err).toBe(0);
    const a = JSON.parse(readFileSync(join(resumed, 'history.json'), 'utf8')).history.loss;
    const b = JSON.parse(readFileSync(join(straight, 'history.json'), 'utf8')).history.loss;
    expect(a).toHaveLength(4);
    expect(a).toEqual(b);
  });
});

describe('reproduce (npm start), shortened', () => {
  test('trains both models with progress and ends with the comparison table', () => {
    const out = join(work, 'reproduce');
    const r = run('reproduce', '--epochs-scale', '0.01', '--data', signsDir, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Part 1: 3-layer ConvNet[\s\S]*Epoch 1\/1[\s\S]*Part 2: ResNet-50[\s\S]*34\/34 \[=+\]/);
    expect(r.out).toMatch(/\| convnet +\| +0\.\d{3} \/ 0\.894 \| +0\.\d{3} \/ 0\.842 \|/);
    expect(r.out).toMatch(/\| resnet50 +\| +0\.\d{3} \/ 0\.956 \| +0\.\d{3} \/ 0\.892 \| +\d+\.\d \/ 140 \|/);
    for (const m of ['convnet', 'resnet50', 'convnet-robust', 'resnet50-robust']) expect(existsSync(join(out, m, 'report.html'))).toBe(true);
    // Four trainings, two of them ResNet-50s with a robustness suite each: minutes, not seconds.
    // The second table: the two recipes side by side, test accuracy and robustness.
    expect(r.out).toMatch(/The tutorial recipe against the robust recipe/);
    expect(r.out).toMatch(/\| convnet +\| +0\.\d{3} \/ 0\.\d{3} \| +0\.\d{3} \/ 0\.\d{3} \|/);
    expect(r.out).toMatch(/\| resnet50 +\| +0\.\d{3} \/ 0\.\d{3} \| +0\.\d{3} \/ 0\.\d{3} \|/);
    expect(readFileSync(join(out, 'resnet50-robust', 'report.html'), 'utf8')).toContain('Robustness (accuracy on shifted test images)');
  }, 480_000);
});

describe('MobileNetV2 from the command line', () => {
  test('train --model mobilenetv2 --alpha 0.35 --image-size 40 on SIGNS (resized), then evaluate, predict and export it', () => {
    const o = join(work, 'mobilenet');
    const t = run('train', '--model', 'mobilenetv2', '--alpha', '0.35', '--image-size', '40', '--epochs', '1', '--threads', '2', '--data', signsDir, '--out', o, '--quiet');
    expect(t.code, t.err).toBe(0);
    expect(t.out).toContain('SIGNS images resized from 64x64 to 40x40');
    const e = run('evaluate', join(o, 'model.h5'), '--data', signsDir);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/accuracy/);
    const p = run('predict', join(o, 'model.h5'), jpeg);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/[0-5]/);
    const x = run('export', join(o, 'model.h5'), '--out', join(o, 'model.onnx'));
    expect(x.code, x.err).toBe(0);
    expect(existsSync(join(o, 'model.onnx'))).toBe(true);
    const s = run('summary', join(o, 'model.h5'));
    expect(s.out).toMatch(/Model: "mobilenetv2_0\.35_40"/);
    expect(s.out).toContain('block_16_depthwise (DepthwiseCon');
  }, 480_000);

  test('summary at Keras\'s size, and --alpha refused where it means nothing', () => {
    const r = run('summary', '--model', 'mobilenetv2', '--image-size', '224', '--classes', '1000');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Total params: 3,538,984');
    expect(r.out).toContain('Non-trainable params: 34,112');
    expectFailure(run('train', '--model', 'convnet', '--alpha', '0.5'), /--alpha is MobileNetV2's width multiplier: it goes with --model mobilenetv2/);
    expectFailure(run('train', '--model', 'mobilenetv2', '--alpha', 'wide'), /--alpha must be a number, got "wide"/);
    expectFailure(run('summary', '--model', 'mobilenetv2', '--alpha', '5'), /--alpha must be above 0 and at most 4, got 5|alpha must be a number in \(0, 4\]/);
  });
});

describe('calibrated confidence', () => {
  test('train fits a temperature on the validation split and reports the calibration error; predict and serve answer "unsure" below --min-confidence', () => {
    const o = join(work, 'calibrated');
    const t = run('train', '--model', 'convnet', '--epochs', '3', '--threads', '2', '--validation-split', '0.2', '--data', signsDir, '--out', o, '--quiet');
    expect(t.code, t.err).toBe(0);
    const m = /Calibration: temperature (\S+) fitted on the validation split and its shifted copies; expected calibration error on the test set (\S+) -> (\S+)/.exec(t.out);
    expect(m, t.out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(readFileSync(join(o, 'report.html'), 'utf8')).toContain('expected calibration error (test)');
    const sure = run('predict', join(o, 'model.h5'), jpeg, '--json');
    expect(JSON.parse(sure.out)[0].class).toMatch(/^[0-5]$/);
    const unsure = run('predict', join(o, 'model.h5'), jpeg, '--json', '--min-confidence', '1');
    expect(JSON.parse(unsure.out)[0].class).toBe('unsure');
    expectFailure(run('predict', join(o, 'model.h5'), jpeg, '--min-confidence', '1.5'), /--min-confidence must be between 0 and 1, got 1.5/);
  }, 480_000);
});

describe('summary and help', () => {
  test('summary of a named model and of a saved one', () => {
    const r = run('summary', '--model', 'resnet50');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Total params: 23,600,006');
    expect(r.out).toContain('res5c_branch2c (Conv2D)');
  });

  test('--help for the program and for each command', () => {
    expect(run('--help').out).toContain('Commands:');
    for (const c of ['train', 'evaluate', 'predict', 'summary', 'reproduce']) expect(run(c, '--help').out).toContain(`Usage: simdnet ${c}`);
  });
});

describe('bad input: a clear message naming the file or flag, a non-zero exit, no partial output', () => {
  // SIGNS's layout, with its list_classes (six classes) so that labels have a range to be out of.
  async function writeSigns(dir: string, opts: { shape?: number[]; dtype?: string; labels?: number[]; drop?: string } = {}) {
    await h5wasm.ready;
    mkdirSync(dir, { recursive: true });
    for (const split of ['train', 'test']) {
      const f = new h5wasm.File(join(dir, `${split}_signs.h5`), 'w');
      const shape = opts.shape ?? [4, 64, 64, 3];
      const n = shape.reduce((a, b) => a * b, 1);
      if (opts.drop !== `${split}_set_x`) {
        f.create_dataset({ name: `${split}_set_x`, data: opts.dtype === 'float' ? new Float32Array(n) : new Uint8Array(n), shape, dtype: opts.dtype === 'float' ? '<f' : '<B' });
      }
      f.create_dataset({ name: `${split}_set_y`, data: BigInt64Array.from((opts.labels ?? [0, 1, 2, 3]).map(BigInt)), shape: [4], dtype: '<q' });
      f.create_dataset({ name: 'list_classes', data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n]), shape: [6], dtype: '<q' });
      f.close();
    }
  }

  test('missing data folder: says where it looked', () => {
    const o = join(work, 'bad-missing');
    expectFailure(run('train', '--model', 'convnet', '--epochs', '1', '--data', join(work, 'nowhere'), '--out', o), /cannot find the SIGNS data[\s\S]*nowhere/, o);
  });

  test('truncated and corrupt .h5 files', () => {
    const dir = join(work, 'truncated');
    mkdirSync(dir, { recursive: true });
    for (const f of ['train_signs.h5', 'test_signs.h5']) copyFileSync(join(signsDir, f), join(dir, f));
    truncateSync(join(dir, 'train_signs.h5'), 100_000);
    const o = join(work, 'bad-truncated');
    expectFailure(run('train', '--model', 'convnet', '--epochs', '1', '--data', dir, '--out', o), /train_signs\.h5/, o);
    const junk = join(work, 'junk');
    mkdirSync(junk, { recursive: true });
    for (const f of ['train_signs.h5', 'test_signs.h5']) writeFileSync(join(junk, f), 'this is not HDF5');
    expectFailure(run('train', '--model', 'convnet', '--epochs', '1', '--data', junk, '--out', o), /train_signs\.h5: not a readable HDF5 file/, o);
  });

  test('a dataset of the wrong shape, the wrong dtype, missing, or with labels out of range', async () => {
    const o = join(work, 'bad-data-out');
    const cases: [Parameters<typeof writeSigns>[1], RegExp][] = [
      [{ shape: [4, 64, 64] }, /"train_set_x" has shape \(4, 64, 64\); expected \(N, height, width, 3\)/],
      [{ dtype: 'float' }, /"train_set_x" has dtype float32; expected uint8 pixels/],
      [{ labels: [0, 1, 7, 2] }, /label 7 of image 2 is out of range \(expected 0 to 5\)/],
      [{ drop: 'train_set_x' }, /has no dataset "train_set_x"/],
    ];
    for (const [i, [opts, pattern]] of cases.entries()) {
      const dir = join(work, `bad-data-${i}`);
      await writeSigns(dir, opts);
      expectFailure(run('train', '--model', 'convnet', '--epochs', '1', '--data', dir, '--out', o), pattern, o);
    }
  });

  test('an unreadable image', () => {
    const bad = join(work, 'not-an-image.jpg');
    writeFileSync(bad, 'hello');
    expectFailure(run('predict', join(work, 'run', 'model.h5'), bad), /not-an-image\.jpg is not a JPEG or PNG image/);
    const broken = join(work, 'broken.jpg');
    writeFileSync(broken, readFileSync(jpeg).subarray(0, 200));
    expectFailure(run('predict', join(work, 'run', 'model.h5'), broken), /cannot decode image .*broken\.jpg/);
    expectFailure(run('predict', join(work, 'run', 'model.h5'), join(work, 'missing.png')), /missing\.png: no such file/);
  });

  test('an unknown model, a missing model file, a model file of another architecture', () => {
    expectFailure(run('train', '--model', 'vgg16'), /unknown model "vgg16" \(expected convnet, resnet50 or mobilenetv2\)/);
    expectFailure(run('evaluate', join(work, 'nothing.h5')), /nothing\.h5: no such file/);
    const o = join(work, 'bad-arch');
    expectFailure(run('train', '--model', 'resnet50', '--resume', join(work, 'run', 'model.h5'), '--epochs', '5', '--data', signsDir, '--out', o),
      /holds a ConvNet model, not resnet50 \(a model file from a different architecture\)/, o);
  });

  test('non-numeric, negative and unknown flags', () => {
    expectFailure(run('train', '--model', 'convnet', '--epochs', 'ten'), /--epochs must be a whole number, got "ten"/);
    expectFailure(run('train', '--model', 'convnet', '--batch-size', '-4'), /--batch-size takes no negative value/);
    expectFailure(run('train', '--model', 'convnet', '--epochs=-4'), /--epochs must be at least 1, got -4/);
    expectFailure(run('train', '--model', 'convnet', '--lr', '0'), /--lr must be positive, got 0/);
    expectFailure(run('train', '--model', 'convnet', '--threads', '1.5'), /--threads must be a whole number, got "1.5"/);
    expectFailure(run('train', '--model', 'convnet', '--flip', 'sideways'), /--flip must be "horizontal" or "none", got "sideways"/);
    expectFailure(run('train', '--model', 'convnet', '--crop-area', '0'), /--crop-area must be above 0 \(a crop of no area\), got "0"/);
    expectFailure(run('train', '--model', 'convnet', '--crop-area', '1.5'), /--crop-area must be a number from 0 to 1, got "1.5"/);
    expectFailure(run('train', '--model', 'convnet', '--frobnicate'), /Unknown option '--frobnicate'/);
    expectFailure(run('dance'), /unknown command "dance"/);
    expect(run('train', '--model', 'convnet', '--epochs', 'ten').code).toBe(2);
  });
});
