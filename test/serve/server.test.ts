// simdnet serve: a real server on 127.0.0.1 at a random port. Concurrent infer and classify
// calls answer what model.predict answers for the same images (batching must not change a
// result beyond float rounding), bad requests get their status while others keep succeeding,
// a full queue answers 503 and recovers, and SIGTERM drains the queue before exiting 0.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convNet, readImages, resNet50, serve, tensor, type Model, type Server } from '../../src/index.js';
import { saveModel } from '../../src/io/model-file.js';
import { sharedDir } from '../helpers/goldens.js';
import { scratchDir } from '../helpers/scratch.js';

const photos = join(sharedDir, 'data/signs/jpeg/test_signs');
const photoFiles = readdirSync(photos).sort().slice(0, 24).map((f) => join(photos, f));
const work = scratchDir('simdnet-serve-');
let model: Model;
let server: Server;

beforeAll(async () => {
  model = convNet({ seed: 7 });
  server = await serve(model, { port: 0, maxBatch: 8, maxDelayMs: 20, threads: 2 });
});
afterAll(async () => {
  await server?.close();
  await model?.dispose();
});

const post = (path: string, body: BodyInit, type = 'application/json') => fetch(`${server.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('simdnet serve', () => {
  test('health, server and model metadata as the Open Inference Protocol gives them', async () => {
    expect(await (await fetch(`${server.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/ConvNet/ready`)).status).toBe(200);
    const meta = await (await fetch(`${server.url}/v2/models/ConvNet`)).json();
    expect(meta).toMatchObject({ name: 'ConvNet', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 64, 64, 3] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 6] }] });
    expect(meta.parameters.class_names).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  test('concurrent classify and infer calls, batched together, answer what model.predict answers for each image (1e-6)', async () => {
    const before = await metric('simdnet_batch_size_count');
    const x = await readImages(photoFiles, 64, 64);
    const expected = (await model.predictProbabilities(x, { threads: 1, batchSize: 1 })).data;
    const logits = (await model.predict(x, { threads: 1, batchSize: 1 })).data;
    const classify = photoFiles.map((f) => post('/v2/models/ConvNet/classify', readFileSync(f), 'image/jpeg').then((r) => r.json()));
    // infer: requests of 1, 2 and 3 images, with ids echoed.
    const groups = [[0, 1], [1, 3], [3, 6], [6, 7], [7, 10]];
    const infer = groups.map(([a, b], i) => post('/v2/models/ConvNet/infer', JSON.stringify({
      id: `req-${i}`, inputs: [{ name: 'input', datatype: 'FP32', shape: [b - a, 64, 64, 3], data: Array.from(x.data.subarray(a * 12288, b * 12288)) }],
    })).then((r) => r.json()));
    const classified = await Promise.all(classify), inferred = await Promise.all(infer);
    classified.forEach((c, i) => {
      for (let k = 0; k < 6; k++) expect(Math.abs(c.probabilities[String(k)] - expected[i * 6 + k]), `image ${i} class ${k}`).toBeLessThan(1e-6);
      expect(c.index).toBe(Array.from(expected.subarray(i * 6, i * 6 + 6)).indexOf(Math.max(...expected.subarray(i * 6, i * 6 + 6))));
    });
    inferred.forEach((r, i) => {
      const [a, b] = groups[i];
      expect(r.id).toBe(`req-${i}`);
      expect(r.outputs[0]).toMatchObject({ name: 'output', datatype: 'FP32', shape: [b - a, 6] });
      r.outputs[0].data.forEach((v: number, j: number) => expect(Math.abs(v - logits[a * 6 + j])).toBeLessThan(1e-6));
    });
    // 29 requests ran in fewer batches than requests.
    const batches = (await metric('simdnet_batch_size_count')) - before;
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(29);
  });

  test('bad requests: 400, 404, 405 and 413 with one-line simdnet messages, while good ones keep succeeding', async () => {
    const good = () => post('/v2/models/ConvNet/classify', readFileSync(photoFiles[0]), 'image/jpeg');
    const infer = (input: object) => post('/v2/models/ConvNet/infer', JSON.stringify({ inputs: [input] }));
    const ok = { name: 'input', datatype: 'FP32', shape: [1, 64, 64, 3], data: new Array(12288).fill(0.5) };
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('/v2/models/ConvNet/classify', 'not an image', 'image/jpeg'), 400, /not a JPEG or PNG image/],
      [post('/v2/models/ConvNet/classify', readFileSync(photoFiles[0]).subarray(0, 300), 'image/jpeg'), 400, /cannot decode image/],
      [post('/v2/models/ConvNet/classify', new Uint8Array(0), 'image/jpeg'), 400, /the request body is empty/],
      [post('/v2/models/ConvNet/infer', '{"inputs": [', 'application/json'), 400, /not valid JSON/],
      [infer({ ...ok, shape: [1, 32, 32, 3] }), 400, /shape \[1,32,32,3\]; the model takes \[N, 64, 64, 3\]/],
      [infer({ ...ok, datatype: 'INT8' }), 400, /datatype "INT8"; the model takes FP32/],
      [infer({ ...ok, data: ok.data.slice(1) }), 400, /12287 values, but its shape holds 12288/],
      [infer({ ...ok, data: [...ok.data.slice(1), null] }), 400, /value 12287 is null, not a finite number/],
      [infer({ ...ok, data: [...ok.data.slice(1), 'NaN'] }), 400, /value 12287 is "NaN", not a finite number/],
      [infer({ ...ok, name: 'x' }), 400, /unknown input "x"/],
      [infer({ ...ok, shape: [9, 64, 64, 3], data: new Array(9 * 12288).fill(0) }), 400, /9 images in one request, more than a batch holds \(8\)/],
      [fetch(`${server.url}/v2/models/Other/infer`, { method: 'POST', body: '{}' }), 404, /no such route or model: POST \/v2\/models\/Other\/infer/],
      [fetch(`${server.url}/nowhere`), 404, /no such route/],
      [fetch(`${server.url}/v2/models/ConvNet/infer`), 405, /GET is not allowed on \/v2\/models\/ConvNet\/infer \(use POST\)/],
      [fetch(`${server.url}/v2/models/ConvNet`, { method: 'DELETE' }), 405, /use GET/],
    ];
    const goods = Array.from({ length: 6 }, good);
    for (const [response, status, message] of cases) {
      const r = await response;
      expect(r.status, String(message)).toBe(status);
      const { error } = await r.json();
      expect(error).toMatch(/^simdnet: /);
      expect(error).toMatch(message);
      expect(error).not.toContain('\n');
    }
    for (const g of goods) expect((await g).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/ConvNet`, { method: 'DELETE' })).headers.get('allow')).toBe('GET');
  });

  test('a body over the limit gets 413 from its Content-Length, before it is sent', async () => {
    const { status, ms } = await new Promise<{ status: number; ms: number }>((done, fail) => {
      const t0 = Date.now();
      const u = new URL(`${server.url}/v2/models/ConvNet/classify`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-length': String(64 * 2 ** 20) } }, (res) => {
        res.resume();
        done({ status: res.statusCode!, ms: Date.now() - t0 });
      });
      req.on('error', fail);
      req.write(Buffer.alloc(1024)); // and never the rest
    });
    expect(status).toBe(413);
    expect(ms).toBeLessThan(2000);
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
  });

  test('a client that goes away mid-request costs nothing further; the server answers the next one', async () => {
    const controllers = Array.from({ length: 8 }, () => new AbortController());
    const calls = controllers.map((c) => post('/v2/models/ConvNet/classify', readFileSync(photoFiles[1]), 'image/jpeg').catch(() => undefined));
    for (const c of controllers) c.abort();
    await Promise.all(calls);
    const r = await post('/v2/models/ConvNet/classify', readFileSync(photoFiles[1]), 'image/jpeg');
    expect(r.status).toBe(200);
  });
});

test('classify applies the model\'s temperature and answers "unsure" (index -1) below minConfidence', async () => {
  const m = convNet({ seed: 7 });
  m.temperature = 3;
  const s = await serve(m, { port: 0, minConfidence: 0.99, threads: 1 });
  try {
    const photo = readFileSync(photoFiles[0]);
    const c = await (await fetch(`${s.url}/v2/models/ConvNet/classify`, { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } })).json();
    expect(c.class).toBe('unsure');
    expect(c.index).toBe(-1);
    const probs = Object.values(c.probabilities) as number[];
    const x = await readImages([photoFiles[0]], 64, 64);
    const expected = (await m.predictProbabilities(x, { threads: 1 })).data;
    probs.forEach((p, k) => expect(Math.abs(p - expected[k])).toBeLessThan(1e-6));
    await expect(serve(m, { port: 0, minConfidence: 2 })).rejects.toThrow(/minConfidence must be between 0 and 1, got 2/);
  } finally {
    await s.close();
    await m.dispose();
  }
});

test('overload: a full queue answers 503 with Retry-After, and the server recovers', async () => {
  // A batch of one 224x224 image through ResNet-50 takes a few hundred ms: the queue fills.
  const slow = resNet50({ seed: 1, inputShape: [224, 224, 3] });
  const s = await serve(slow, { port: 0, maxBatch: 1, maxDelayMs: 0, maxQueue: 2, threads: 1 });
  const body = readFileSync(photoFiles[2]);
  const responses = await Promise.all(Array.from({ length: 16 }, () => fetch(`${s.url}/v2/models/ResNet50/classify`, { method: 'POST', body })));
  const statuses = responses.map((r) => r.status);
  expect(statuses).toContain(200);
  expect(statuses).toContain(503);
  const refused = responses.find((r) => r.status === 503)!;
  expect(refused.headers.get('retry-after')).toBe('1');
  expect((await refused.json()).error).toMatch(/^simdnet: the queue is full/);
  expect((await fetch(`${s.url}/v2/models/ResNet50/classify`, { method: 'POST', body })).status).toBe(200);
  await s.close();
  await slow.dispose();
});

test('SIGTERM: the CLI stops accepting, answers every queued request, and exits 0', async () => {
  const file = join(work, 'model.h5');
  // At 224x224 one image takes a few hundred ms on one thread: the eight requests are all in (the
  // server's main thread is free to accept them) and most still queued when the signal comes.
  await saveModel(resNet50({ seed: 2, inputShape: [224, 224, 3] }), file);
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../dist/src/cli/main.js'), 'serve', file, '--port', '0', '--threads', '1', '--max-batch', '1']);
  let out = '';
  const url = await new Promise<string>((done) => child.stdout.on('data', (d) => {
    out += d;
    const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) done(m[1]);
  }));
  const body = readFileSync(photoFiles[3]);
  const pending = Array.from({ length: 8 }, () => fetch(`${url}/v2/models/ResNet50/classify`, { method: 'POST', body }));
  // The signal comes once all eight are in (queued, running or answered), however busy the machine:
  // a connection whose request has not arrived yet is not one the server has taken on.
  for (let waited = 0; waited < 30_000; waited += 50) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    const queued = value(/^simdnet_queue_depth /), answered = value(/^simdnet_requests_total\{endpoint="classify"/);
    if (queued + answered + 1 >= 8) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  expect(code).toBe(0);
  const statuses = await Promise.all(pending.map((p) => p.then((r) => r.status)));
  expect(statuses).toEqual(new Array(8).fill(200));
  // Something was still queued when the signal came, and was answered.
  expect(out).toMatch(/SIGTERM: no new connections; answering the [1-9]\d* queued image\(s\), then exiting\nStopped/);
  await fetch(`${url}/v2/health/live`).then(() => { throw new Error('still listening'); }, () => undefined);
});
