// Every script in examples/ runs as a user would run it (node examples/x.mjs, importing
// 'simdnet' from this package's build), on small data: a few epochs, a few photos.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { signsDir } from '../helpers/goldens.js';
import { loadModel, serve } from '../../src/index.js';
import { scratchDir } from '../helpers/scratch.js';

const root = resolve(import.meta.dirname, '../..');
const work = scratchDir('simdnet-examples-');
const jpegs = join(signsDir, 'jpeg/test_signs');
const photos = readdirSync(jpegs).sort();

function example(name: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'examples', name), ...args], {
    cwd: work, encoding: 'utf8', timeout: 300_000, env: { ...process.env, SIMDNET_DATA: signsDir },
  });
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

// A folder of class folders: 12 SIGNS photos of each of three signs.
const folder = join(work, 'photos');
beforeAll(() => {
  for (const label of ['0', '1', '2']) {
    mkdirSync(join(folder, `sign-${label}`), { recursive: true });
    for (const f of photos.filter((p) => p.startsWith(`${label}_`)).slice(0, 12)) copyFileSync(join(jpegs, f), join(folder, `sign-${label}`, f));
  }
});

describe('examples/', () => {
  test('train-convnet, then predict-photo and export-onnx with its model', () => {
    expect(example('train-convnet.mjs', '3', 'convnet.h5')).toMatch(/test accuracy 0\.\d{4}\nsaved convnet\.h5/);
    const out = example('predict-photo.mjs', 'convnet.h5', join(jpegs, photos[0]), join(jpegs, photos.at(-1)!));
    expect(out.trim().split('\n')).toHaveLength(2);
    expect(out).toMatch(/0_IMG_\d+\.jpg: [0-5] \(\d+\.\d%\)/);
    const onnx = example('export-onnx.mjs', 'convnet.h5', 'convnet.onnx');
    expect(existsSync(join(work, 'convnet.onnx'))).toBe(true);
    const worst = Number(/differ by at most (\S+)/.exec(onnx)![1]);
    expect(worst).toBeLessThan(1e-4);
  }, 300_000);

  test('train-folder, then fine-tune its model on the same folder', async () => {
    const out = example('train-folder.mjs', folder, '1', 'folder.h5');
    expect(out).toContain('36 images of 3 classes: sign-0, sign-1, sign-2');
    const { model } = await loadModel(join(work, 'folder.h5'));
    expect(model.classNames).toEqual(['sign-0', 'sign-1', 'sign-2']);
    await model.dispose();
    const tuned = example('fine-tune.mjs', join(work, 'folder.h5'), folder, '1', 'tuned.h5');
    expect(tuned).toMatch(/frozen up to \w+; starting fresh: nothing/);
    expect(tuned).toContain('saved tuned.h5');
  }, 300_000);

  test('custom-layer trains a model with a JavaScript layer and reloads it', () => {
    const out = example('custom-layer.mjs');
    expect(Number(/accuracy (\S+)/.exec(out)![1])).toBeGreaterThan(0.9);
    expect(out).toContain('reloaded with layers: InputLayer, Conv2D, Swish, Flatten, Dense');
  }, 120_000);

  test('serve-client talks to a running server', async () => {
    const { model } = await loadModel(join(work, 'convnet.h5'));
    const server = await serve(model, { port: 0, name: 'signs' });
    try {
      const out = await new Promise<string>((done, fail) => {
        const p = spawn(process.execPath, [join(root, 'examples/serve-client.mjs'), server.url, 'signs', join(jpegs, photos[0])], { cwd: work });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        p.stderr.on('data', (d) => { text += d; });
        p.on('exit', (code) => (code === 0 ? done(text) : fail(new Error(text))));
      });
      expect(out).toContain('live: true\nready: true');
      expect(out).toMatch(/model signs: input \[-1,64,64,3\], classes 0, 1, 2, 3, 4, 5/);
      expect(out).toMatch(/0_IMG_\d+\.jpg: [0-5] \(\d+\.\d%\)/);
      expect(out).toContain('infer grey: output [1,6]');
    } finally {
      await server.close();
      await model.dispose();
    }
  }, 120_000);
});
