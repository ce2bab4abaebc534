// A load test of `simdnet serve` with autocannon, on 127.0.0.1: the classify endpoint with a
// SIGNS photo, at concurrency 1, 8 and 64 for a bounded time each. Reports requests/s, p50 and
// p99 latency, the batch sizes the server formed (its /metrics), errors (none allowed) and the
// server's peak RSS, next to the offline predict throughput of the same model at the same batch
// size and threads, measured first in this process. Writes bench/results/serve.json.
//
//   npm run bench:serve [-- --model resnet50|convnet] [-- --seconds N] [-- --threads N]

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { convNet } from '../src/models/convnet.js';
import { resNet50 } from '../src/models/resnet50.js';
import { readImages } from '../src/data/images.js';
import { saveModel } from '../src/io/model-file.js';
import { packageRoot } from '../src/platform/node-files.js';
import { machine, table, writeResults } from './report.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => { const at = args.indexOf(`--${name}`); return at >= 0 ? args[at + 1] : fallback; };
const which = arg('model', 'resnet50');
if (which !== 'resnet50' && which !== 'convnet') throw new Error(`--model must be resnet50 or convnet, got "${which}"`);
const seconds = Number(arg('seconds', '10'));
const threads = Number(arg('threads', '2'));
const MAX_BATCH = 32;

const photos = join(packageRoot(), '..', 'shared', 'data', 'signs', 'jpeg', 'test_signs');
const photo = join(photos, readdirSync(photos).sort()[0]);

async function offline(): Promise<number> {
  const model = which === 'resnet50' ? resNet50() : convNet();
  const x = await readImages(new Array(MAX_BATCH).fill(photo), 64, 64);
  await model.predictProbabilities(x, { threads, batchSize: MAX_BATCH });
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 5000) {
    await model.predictProbabilities(x, { threads, batchSize: MAX_BATCH });
    n += MAX_BATCH;
  }
  await model.dispose();
  return n / ((performance.now() - t0) / 1000);
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function batchStats(url: string): Promise<{ batches: number; images: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').filter((l) => l.startsWith(name + ' ')).join('\n'))?.[2] ?? 0);
  return { batches: value('simdnet_batch_size_count'), images: value('simdnet_batch_size_sum') };
}

async function main(): Promise<void> {
  const offlineRate = await offline();
  console.log(`offline predict, batch ${MAX_BATCH}, ${threads} threads: ${offlineRate.toFixed(1)} images/s`);
  const file = join(mkdtempSync(join(tmpdir(), 'simdnet-bench-serve-')), 'model.h5');
  await saveModel(which === 'resnet50' ? resNet50() : convNet(), file);
  const server = spawn(process.execPath, [join(packageRoot(), 'dist/src/cli/main.js'), 'serve', file, '--port', '0', '--threads', String(threads), '--max-batch', String(MAX_BATCH), '--max-queue', '1024']);
  let out = '';
  const url = await new Promise<string>((done, fail) => {
    server.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) done(m[1]);
    });
    server.once('exit', (code) => fail(new Error(`the server exited (${code}): ${out}`)));
  });
  const name = which === 'resnet50' ? 'ResNet50' : 'ConvNet';
  const body = readFileSync(photo);
  const results = [];
  for (const connections of [1, 8, 64]) {
    const before = await batchStats(url);
    const r = await autocannon({
      url: `${url}/v2/models/${name}/classify`, method: 'POST', body, headers: { 'content-type': 'image/jpeg' },
      connections, duration: seconds,
    });
    const after = await batchStats(url);
    const batches = after.batches - before.batches, images = after.images - before.images;
    const row = {
      connections, requestsPerSecond: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx, meanBatch: batches ? images / batches : 0, ofOffline: r.requests.average / offlineRate,
    };
    console.log(JSON.stringify(row));
    results.push(row);
  }
  const rss = peakRssMiB(server.pid!);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  console.log('\n' + table(['concurrency', 'requests/s', 'p50 ms', 'p99 ms', 'mean batch', 'errors', 'of offline predict'], results.map((r) => [
    r.connections, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.meanBatch, r.errors, `${(100 * r.ofOffline).toFixed(0)}%`,
  ])));
  console.log(`server peak RSS ${rss.toFixed(0)} MiB; ${which}, ${threads} threads, max batch ${MAX_BATCH}, ${seconds} s per level`);
  const path = writeResults(`serve-${which}.json`, { machine: machine(), model: which, threads, maxBatch: MAX_BATCH, seconds, offlineImagesPerSecond: offlineRate, serverPeakRssMiB: rss, results });
  console.log(`Wrote ${path}`);
}

await main();
