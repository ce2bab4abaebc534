// Own images: class folders through the loader and the command line, fine-tuning, and the bad
// folders a user will have.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PNG } from 'pngjs';
import { DataFileError, loadImageFolder } from '../../src/index.js';
import { loadModel } from '../../src/io/model-file.js';
import { signsDir } from '../helpers/goldens.js';
import { scratchDir } from '../helpers/scratch.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli/main.js');
const work = scratchDir('simdnet-folders-');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// A PNG of one colour with a little noise: class k has hue k / classes.
function png(k: number, classes: number, i: number, size = 24): Buffer {
  const p = new PNG({ width: size, height: size });
  const h = (k / classes) * 6, c = (x: number) => Math.round(255 * Math.max(0, Math.min(1, Math.abs(((h + x) % 6) - 3) - 1)));
  for (let j = 0; j < size * size; j++) {
    const n = ((j * 31 + i * 17) % 23) - 11;
    p.data[4 * j] = Math.max(0, Math.min(255, c(0) + n)); p.data[4 * j + 1] = Math.max(0, Math.min(255, c(4) + n));
    p.data[4 * j + 2] = Math.max(0, Math.min(255, c(2) + n)); p.data[4 * j + 3] = 255;
  }
  return PNG.sync.write(p);
}

function colourFolders(dir: string, names: string[], perClass: number): void {
  for (const [k, name] of names.entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(dir, name, `img${i}.png`), png(k, names.length, i));
  }
}

// SIGNS's JPEGs laid out as class folders: DIR/{train,test}/<sign>/*.jpg.
function signsFolders(dir: string, names = ['zero', 'one', 'two', 'three', 'four', 'five']): void {
  for (const [split, from] of [['train', 'train_signs'], ['train', 'val_signs'], ['test', 'test_signs']]) {
    for (const f of readdirSync(join(signsDir, 'jpeg', from))) {
      const label = Number(f.split('_')[0]);
      mkdirSync(join(dir, split, names[label]), { recursive: true });
      copyFileSync(join(signsDir, 'jpeg', from, f), join(dir, split, names[label], f));
    }
  }
}

describe('the loader', () => {
  test('class names are the sorted folder names; subfolders count; other files are ignored; sizes are unified', async () => {
    const dir = join(work, 'three');
    colourFolders(dir, ['red', 'green', 'blue'], 4);
    mkdirSync(join(dir, 'red', 'more'));
    writeFileSync(join(dir, 'red', 'more', 'deep.png'), png(0, 3, 9, 40));
    writeFileSync(join(dir, 'green', 'notes.txt'), 'not an image');
    const { images, skipped } = await loadImageFolder(dir, { imageSize: 16 });
    expect(images.classNames).toEqual(['blue', 'green', 'red']);
    expect(images.size).toBe(13);
    expect(images.sampleShape).toEqual([16, 16, 3]);
    expect(images.pixels).toBeInstanceOf(Uint8Array);
    expect(Array.from(images.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(images.files![12]).toContain(join('red', 'more', 'deep.png'));
    expect(skipped).toEqual([]);
  });

  test('ten classes, decoded in worker threads with progress', async () => {
    const dir = join(work, 'ten');
    const names = Array.from({ length: 10 }, (_, k) => `c${k}`);
    colourFolders(dir, names, 20);
    const seen: number[] = [];
    const { images } = await loadImageFolder(dir, { imageSize: 24, threads: 2, progress: (done) => seen.push(done) });
    expect(images.classes).toBe(10);
    expect(images.size).toBe(200);
    expect(seen[seen.length - 1]).toBe(200);
    // A pixel of class k is its colour (plus noise): the decode kept the images apart.
    const one = await loadImageFolder(join(dir), { imageSize: 24, threads: 1 });
    expect(Buffer.compare(Buffer.from(one.images.pixels), Buffer.from(images.pixels))).toBe(0);
  });

  test('bad folders: each a one-line error naming the folder or file', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    await expect(loadImageFolder(empty)).rejects.toThrow(/image folder .*empty holds no class folders/);
    const loose = join(work, 'loose');
    mkdirSync(loose);
    writeFileSync(join(loose, 'a.png'), png(0, 2, 0));
    await expect(loadImageFolder(loose)).rejects.toThrow(/its images must be in one folder per class/);
    const single = join(work, 'single');
    colourFolders(single, ['only'], 3);
    await expect(loadImageFolder(single)).rejects.toThrow(/has one class folder \(only\); a classifier needs at least two/);
    const hollow = join(work, 'hollow');
    colourFolders(hollow, ['a', 'b'], 2);
    mkdirSync(join(hollow, 'c'));
    writeFileSync(join(hollow, 'c', 'readme.txt'), 'x');
    await expect(loadImageFolder(hollow)).rejects.toThrow(/class folder .*hollow\/c holds no JPEG or PNG images/);
    await expect(loadImageFolder(join(work, 'nowhere'))).rejects.toBeInstanceOf(DataFileError);
  });

  test('a corrupt image: an error naming it, or with skipBadImages, skipped and listed', async () => {
    const dir = join(work, 'corrupt');
    colourFolders(dir, ['a', 'b'], 3);
    writeFileSync(join(dir, 'b', 'broken.png'), png(1, 2, 0).subarray(0, 60));
    await expect(loadImageFolder(dir, { threads: 1 })).rejects.toThrow(/cannot decode image .*b\/broken\.png.*--skip-bad-images skips such files/);
    const { images, skipped } = await loadImageFolder(dir, { skipBadImages: true, threads: 1 });
    expect(images.size).toBe(6);
    expect(skipped.map((s) => s.file)).toEqual([expect.stringContaining('broken.png')]);
  });
});

describe('the command line on class folders', () => {
  const signs = join(work, 'signs-folders');
  const run6 = join(work, 'run6');

  test('train -> evaluate -> predict on SIGNS laid out as named class folders', () => {
    signsFolders(signs);
    // Seed 1: the tutorial's ConvNet at its rate 0.009 is fragile, and from seed 0 on this order of
    // images it stays at chance for 15 epochs (seeds 1-3 reach 0.47-0.58 in 10; measured).
    const t = run('train', '--model', 'convnet', '--epochs', '6', '--seed', '1', '--threads', '2', '--deterministic', '--data', signs, '--out', run6, '--quiet');
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/train: 1080 images of 6 classes \(five, four, one, three, two, zero\)/);
    // Learned from the folders' labels: well above chance (1/6) on the test folders.
    const accuracy = Number(/Test accuracy: +(0\.\d+)/.exec(t.out)?.[1]);
    console.log(`class folders, 6 epochs: test accuracy ${accuracy}`);
    expect(accuracy).toBeGreaterThan(0.3);
    const e = run('evaluate', join(run6, 'model.h5'), '--data', signs, '--threads', '1');
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/on the test set \(120 images\)/);
    for (const name of ['zero', 'one', 'five']) expect(e.out).toMatch(new RegExp(`^\\s+${name}\\s+\\d\\.\\d{4}\\s+\\d+$`, 'm'));
    const p = run('predict', join(run6, 'model.h5'), join(signs, 'test', 'three'), '--csv');
    expect(p.code, p.err).toBe(0);
    const lines = p.out.trim().split('\n');
    expect(lines[0]).toBe('image,class,five,four,one,three,two,zero');
    expect(lines).toHaveLength(1 + readdirSync(join(signs, 'test', 'three')).length);
    expect(readFileSync(join(run6, 'report.html'), 'utf8')).toContain('<th>three</th>');
  });

  test('three classes with a validation split; the classifier has three outputs', async () => {
    const dir = join(work, 'three-cli');
    colourFolders(dir, ['cyan', 'magenta', 'yellow'], 16);
    const out = join(work, 'run3');
    const t = run('train', '--model', 'convnet', '--epochs', '2', '--threads', '1', '--data', dir, '--validation-split', '0.25',
      '--image-size', '32', '--out', out, '--quiet');
    expect(t.code, t.err).toBe(0);
    const { model } = await loadModel(join(out, 'model.h5'));
    expect(model.outputShape).toEqual([3]);
    expect(model.inputShape).toEqual([32, 32, 3]);
    expect(model.classNames).toEqual(['cyan', 'magenta', 'yellow']);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).history;
    expect(history.val_accuracy).toHaveLength(2);
    const j = run('predict', join(out, 'model.h5'), join(dir, 'yellow', 'img0.png'), '--json');
    expect(Object.keys(JSON.parse(j.out)[0].probabilities)).toEqual(['cyan', 'magenta', 'yellow']);
  });

  test('fine-tuning: a 3-class head from the 6-class SIGNS model, early layers frozen', async () => {
    const dir = join(work, 'three-signs');
    for (const [k, name] of ['fist', 'one', 'two'].entries()) {
      mkdirSync(join(dir, name), { recursive: true });
      for (const f of readdirSync(join(signsDir, 'jpeg', 'train_signs')).filter((f) => f.startsWith(`${k}_`)).slice(0, 30)) {
        copyFileSync(join(signsDir, 'jpeg', 'train_signs', f), join(dir, name, f));
      }
    }
    const out = join(work, 'tuned');
    const t = run('train', '--model', 'convnet', '--epochs', '2', '--threads', '1', '--data', dir, '--initial-weights', join(run6, 'model.h5'),
      '--freeze-until', 'W1', '--out', out, '--quiet');
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/starting fresh: fc\/kernel, fc\/bias/);
    const { model: before } = await loadModel(join(run6, 'model.h5'));
    const { model: after } = await loadModel(join(out, 'model.h5'));
    expect(after.outputShape).toEqual([3]);
    // W1 was frozen: the same weights as the 6-class model's; W2 was trained from them.
    expect(Array.from(after.getWeights()['W1/kernel'].data)).toEqual(Array.from(before.getWeights()['W1/kernel'].data));
    expect(Array.from(after.getWeights()['W2/kernel'].data)).not.toEqual(Array.from(before.getWeights()['W2/kernel'].data));
    expect(after.getLayer('W1').trainable).toBe(false);
  });

  test('bad folders through the command line: one line, exit 1, no output written', () => {
    const empty = join(work, 'cli-empty');
    mkdirSync(empty);
    const r = run('train', '--model', 'convnet', '--data', empty, '--out', join(work, 'never'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/holds no class folders/);
    expect(existsSync(join(work, 'never', 'model.h5'))).toBe(false);
  });
});
