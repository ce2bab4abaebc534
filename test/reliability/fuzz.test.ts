// Random byte flips and truncations of a small model file and of a SIGNS-layout file, with a
// fixed seed: every one must end in a clean simdnet error or a correct load, each within a time
// bound, and the process's peak memory must stay bounded.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { convNet, SimdnetError } from '../../src/index.js';
import { loadSignsFile } from '../../src/data/signs.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { seededRandom } from '../../src/training/random.js';
import { signsFile } from './crafted.js';
import { sharedDir } from '../helpers/goldens.js';
import { scratchDir } from '../helpers/scratch.js';

const work = scratchDir('simdnet-fuzz-');
const CASES = 200;

// A corrupted copy: a truncation, or 1-8 flipped bytes, placed by the seeded generator.
function corrupt(bytes: Buffer, random: () => number): { data: Buffer; what: string } {
  if (random() < 0.25) {
    const at = Math.floor(random() * bytes.length);
    return { data: bytes.subarray(0, at), what: `truncated at ${at}` };
  }
  const data = Buffer.from(bytes);
  const flips: number[] = [];
  for (let k = 1 + Math.floor(random() * 8); k > 0; k--) {
    const at = Math.floor(random() * data.length);
    data[at] ^= 1 + Math.floor(random() * 255);
    flips.push(at);
  }
  return { data, what: `bytes flipped at ${flips.join(', ')}` };
}

async function fuzz(original: Buffer, name: string, load: (path: string) => Promise<unknown>, seed: number) {
  const random = seededRandom(seed);
  const outcomes = { loaded: 0, refused: 0 };
  const rss0 = process.resourceUsage().maxRSS / 1024;
  for (let i = 0; i < CASES; i++) {
    const { data, what } = corrupt(original, random);
    const path = join(work, `${name}-${i}.h5`);
    writeFileSync(path, data);
    const t0 = performance.now();
    try {
      await load(path);
      outcomes.loaded++;
    } catch (err) {
      if (!(err instanceof SimdnetError) || !err.message.startsWith('simdnet: ')) {
        throw new Error(`case ${i} (${what}): not a clean simdnet error: ${(err as Error)?.stack ?? err}`);
      }
      expect(err.message.split('\n'), `case ${i} (${what})`).toHaveLength(1);
      outcomes.refused++;
    }
    expect(performance.now() - t0, `case ${i} (${what})`).toBeLessThan(5000);
  }
  const grew = process.resourceUsage().maxRSS / 1024 - rss0;
  console.log(`${name}: ${outcomes.loaded} loaded, ${outcomes.refused} refused, peak memory +${grew.toFixed(0)} MiB`);
  return { ...outcomes, grewMiB: grew };
}

test(`${CASES} corrupted copies of a model file: each loads exactly or is refused cleanly`, async () => {
  const m = convNet({ seed: 5 });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  const path = join(work, 'model.h5');
  await saveModel(m, path);
  const want = m.getWeights();
  const r = await fuzz(readFileSync(path), 'model', async (p) => {
    const { model } = await loadModel(p);
    // A file that loads must load the right weights: corruption elsewhere (unused bytes,
    // attributes nobody reads) is harmless, corruption of weights is caught by the checksums.
    const got = model.getWeights();
    for (const k of Object.keys(want)) {
      if (Buffer.compare(Buffer.from(got[k].data.buffer, got[k].data.byteOffset, got[k].data.byteLength), Buffer.from(want[k].data.buffer, want[k].data.byteOffset, want[k].data.byteLength)) !== 0) {
        throw new Error(`${p} loaded, with different values of ${k}`);
      }
    }
  }, 1);
  expect(r.refused).toBeGreaterThan(CASES / 4);
  expect(r.grewMiB).toBeLessThan(300);
});

test(`${CASES} corrupted copies of a SIGNS-layout file: each refused cleanly, or loaded with the right shape and labels in range`, async () => {
  const path = join(work, 'signs.h5');
  const labels = Int32Array.from({ length: 20 }, (_, i) => i % 6);
  await signsFile(path, 'train_set', 20, labels);
  const original = await loadSignsFile(path, 'train_set');
  // The format holds no checksums (the data files are the course's), so a flipped pixel or label
  // byte that keeps the file readable cannot be told from the original by any reader: counted,
  // and the rest of what loads must be right.
  let exact = 0, altered = 0;
  const r = await fuzz(readFileSync(path), 'signs', async (p) => {
    const set = await loadSignsFile(p, 'train_set');
    expect(set.sampleShape).toEqual(original.sampleShape);
    expect(set.size).toBe(original.size);
    for (const l of set.labels) expect(l >= 0 && l < set.classes).toBe(true);
    const same = Buffer.compare(Buffer.from(set.pixels), Buffer.from(original.pixels)) === 0 && set.labels.every((l, i) => l === labels[i]);
    if (same) exact++; else altered++;
  }, 2);
  console.log(`signs: of ${r.loaded} loaded, ${exact} exact and ${altered} with a changed pixel or label`);
  expect(exact + altered).toBe(r.loaded);
  expect(r.refused).toBeGreaterThan(CASES / 4);
  expect(r.grewMiB).toBeLessThan(300);
});

// Class folders as a careless or hostile user leaves them: odd names, files that are not images
// or are broken ones, and symbolic links of every kind (to the folder itself, its parent, the
// root, another class, each other, nowhere). Each folder must load (bad images skipped and
// listed, every loaded image a real one, none twice) or be refused with one simdnet line, within
// 5 s.
test('class folders: random names, files and links (seeded), each loaded exactly or refused in one line', async () => {
  const { copyFileSync, mkdirSync, readdirSync, symlinkSync } = await import('node:fs');
  const { loadImageFolder } = await import('../../src/data/image-folder.js');
  const photos = join(sharedDir, 'data/signs/jpeg/test_signs');
  const real = readdirSync(photos).sort().slice(0, 12).map((f) => join(photos, f));
  const random = seededRandom(11);
  const pick = <T>(a: T[]): T => a[Math.floor(random() * a.length)];
  const names = ['a', 'b b', 'ü', '0', '.hidden', 'x.jpg', 'long'.repeat(30), '-dash', 'c'];
  const outcomes = { loaded: 0, refused: 0 };
  for (let i = 0; i < 40; i++) {
    const root = join(work, `folders-${i}`);
    const classes = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(names)).filter((n, k, a) => a.indexOf(n) === k);
    let genuine = 0;
    for (const c of classes) {
      const dir = join(root, c);
      mkdirSync(dir, { recursive: true });
      for (let k = Math.floor(random() * 5); k > 0; k--) {
        const kind = random(), file = join(dir, `${pick(names)}-${k}${pick(['.jpg', '.png', '.JPG', '.txt', ''])}`);
        if (kind < 0.5) copyFileSync(pick(real), file);
        else if (kind < 0.7) writeFileSync(file, readFileSync(pick(real)).subarray(0, Math.floor(random() * 600)));
        else writeFileSync(file, Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))));
      }
      for (let k = random() < 0.3 ? 1 + Math.floor(random() * 2) : 0; k > 0; k--) {
        const target = pick(['.', '.', '..', '/', join(root, pick(classes)), join(dir, 'loop-b'), join(work, 'nowhere')]);
        try { symlinkSync(target, join(dir, k === 1 && target.endsWith('loop-b') ? 'loop-a' : `link-${k}`)); } catch { /* the name is taken */ }
        if (target.endsWith('loop-b')) try { symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b')); } catch { /* taken */ }
      }
      genuine += readdirSync(dir).length;
    }
    const t0 = Date.now();
    try {
      const { images } = await loadImageFolder(root, { skipBadImages: true, threads: 1 });
      outcomes.loaded++;
      // Every image read is a file under its class folder, read once.
      expect(new Set(images.files).size).toBe(images.size);
      expect(images.size).toBeLessThanOrEqual(genuine);
    } catch (err) {
      outcomes.refused++;
      expect(err, `folder set ${i}`).toBeInstanceOf(SimdnetError);
      expect((err as Error).message).toMatch(/^simdnet: /);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(Date.now() - t0, `folder set ${i}`).toBeLessThan(5000);
  }
  console.log(`class folders: ${outcomes.loaded} loaded, ${outcomes.refused} refused`);
  expect(outcomes.loaded).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
});

// The prediction server under random requests (seeded): mutated JSON tensors, random bytes as
// images, random methods and paths. Every request gets an answer (a 2xx, or a 4xx with one
// simdnet line), the server never stops, and a good request still succeeds at the end.
test('simdnet serve: 300 random requests, each answered, the server alive after', async () => {
  const { serve, tensor } = await import('../../src/index.js');
  const model = convNet({ seed: 3 });
  const server = await serve(model, { port: 0, maxBatch: 4, maxDelayMs: 1, maxBodyBytes: 2 ** 20 });
  const random = seededRandom(21);
  const pick = <T>(a: T[]): T => a[Math.floor(random() * a.length)];
  const good = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64, 64, 3], data: new Array(12288).fill(0.5) }] });
  const statuses: Record<number, number> = {};
  for (let i = 0; i < 300; i++) {
    const path = pick(['/v2/models/ConvNet/infer', '/v2/models/ConvNet/classify', '/v2/models/ConvNet', '/v2/health/ready', '/v2/models/%ff/infer', '/v2/models/ConvNet/infer/', '/metrics?x=1', '/v2/models/ConvNet/versions/1/infer']);
    const method = pick(['POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE']);
    let body: Uint8Array | string | undefined;
    const kind = random();
    if (kind < 0.4) {
      // The good request with some characters changed, cut or repeated.
      const chars = good.split('');
      for (let k = 1 + Math.floor(random() * 6); k > 0; k--) chars[Math.floor(random() * chars.length)] = pick(['"', '[', ']', ',', '1e999', '-', 'NaN', '', '{', 'null']);
      body = random() < 0.2 ? chars.join('').slice(0, Math.floor(random() * chars.length)) : chars.join('');
    } else if (kind < 0.7) body = Uint8Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256));
    else if (kind < 0.8) body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [Math.floor(random() * 6) - 1, 64, 64, 3], data: pick([[], [[1]], 'x', null]) }] });
    const r = await fetch(`${server.url}${path}`, { method, body: method === 'GET' ? undefined : body });
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    expect([200, 400, 404, 405, 413], `${method} ${path}`).toContain(r.status);
    if (r.status !== 200 && path !== '/metrics?x=1') {
      const { error } = await r.json();
      expect(error).toMatch(/^simdnet: /);
      expect(error).not.toContain('\n');
    } else await r.arrayBuffer();
  }
  console.log('serve fuzz statuses:', statuses);
  const ok = await fetch(`${server.url}/v2/models/ConvNet/infer`, { method: 'POST', body: good });
  expect(ok.status).toBe(200);
  const out = (await ok.json()).outputs[0].data;
  const direct = (await model.predict(tensor(new Float32Array(12288).fill(0.5), [1, 64, 64, 3]), { threads: 1 })).data;
  out.forEach((v: number, k: number) => expect(Math.abs(v - direct[k])).toBeLessThan(1e-6));
  await server.close();
  await model.dispose();
});
