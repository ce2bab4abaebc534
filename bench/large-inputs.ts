// Training at 224x224: one ResNet-50 and one MobileNetV2 (alpha 1.0) training step at batch 16
// on 2 threads, timed after warm-up, with the process's peak RSS; each model in a process of its
// own, so that its peak is its own. Writes bench/results/large-inputs.json.
//
//   node dist/bench/large-inputs.js [--size 224] [--batch 16] [--threads 2]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mobileNetV2 } from '../src/models/mobilenetv2.js';
import { resNet50 } from '../src/models/resnet50.js';
import { machine, table, writeResults } from './report.js';
import { syntheticBatch } from './synthetic-batch.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const size = option('--size', 224), batch = option('--batch', 16), threads = option('--threads', 2);

interface Measured { model: string; size: number; batch: number; threads: number; seconds: number[]; imagesPerSecond: number; peakRssMiB: number }

// In the child: build, warm up (2 steps), time 3 steps, report.
async function measure(which: string): Promise<Measured> {
  const shape = [size, size, 3];
  const model = which === 'resnet50' ? resNet50({ inputShape: shape }) : mobileNetV2({ inputShape: shape });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const pool = [0, 1].map((v) => syntheticBatch(batch, size, v));
  const seconds = [];
  for (let step = 0; step < 5; step++) {
    const t0 = performance.now();
    await model.trainOnBatch(pool[step % 2].x, pool[step % 2].y, { threads });
    if (step >= 2) seconds.push((performance.now() - t0) / 1000);
  }
  await model.dispose();
  const median = [...seconds].sort((a, b) => a - b)[1];
  return { model: which, size, batch, threads, seconds, imagesPerSecond: batch / median, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

if (args.includes('--child')) {
  console.log(JSON.stringify(await measure(args[args.indexOf('--child') + 1])));
} else {
  const results: Measured[] = [];
  for (const which of ['resnet50', 'mobilenetv2']) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args, '--child', which], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${which}: ${r.stderr}`);
    results.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
  }
  const m = machine();
  console.log(`${m.cpu} (${m.simd}), ${m.cores} cores, Node ${m.node}; ${size}x${size}, batch ${batch}, ${threads} threads`);
  console.log(table(['model', 'step (median of 3)', 'images/s', 'peak RSS'], results.map((r) => [r.model, `${[...r.seconds].sort((a, b) => a - b)[1].toFixed(2)} s`, r.imagesPerSecond, `${r.peakRssMiB.toFixed(0)} MiB`])));
  console.log(`wrote ${writeResults('large-inputs.json', { machine: m, results })}`);
}
