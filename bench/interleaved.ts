// simdnet against PyTorch at its best, interleaved so that a noisy machine cannot decide the
// result: for each case the two alternate block by block (simdnet, PyTorch, simdnet, PyTorch, ...)
// and each pair of neighbouring blocks gives a ratio; reported as the median with its range,
// beside the machine's steal time and load during the case. PyTorch runs as its users are told
// to (bench/pytorch_worker.py: channels_last and NCHW, the faster reported, warmed up until a
// step's time settles, a fresh batch each step, inference_mode for predict), and the worker is
// held against a plain training loop written inline in the same run. Writes
// bench/results/interleaved.json.
//
//   npm run bench:interleaved [-- --pairs N] [-- --quick] [-- --only 0,2,5 (case numbers)]
//   SIMDNET_PYTHON=/usr/bin/python3 picks the interpreter (default: python3, then /usr/bin/python3).

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { convNet } from '../src/models/convnet.js';
import { resNet50 } from '../src/models/resnet50.js';
import { mobileNetV2 } from '../src/models/mobilenetv2.js';
import type { Model } from '../src/models/model.js';
import { runtimeInfo } from '../src/models/runtime-info.js';
import { packageRoot } from '../src/platform/node-files.js';
import { syntheticBatch } from './synthetic-batch.js';
import { machine, table, writeResults } from './report.js';

interface Case { model: 'resnet50' | 'convnet' | 'mobilenetv2'; mode: 'train' | 'predict'; batch: number; threads: number; steps: number; size?: number; alpha?: number }

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const at = args.indexOf('--pairs');
const PAIRS = at >= 0 ? Number(args[at + 1]) : quick ? 3 : 5;
const CASES: Case[] = [
  { model: 'resnet50', mode: 'train', batch: 32, threads: 2, steps: 2 },
  { model: 'resnet50', mode: 'train', batch: 32, threads: 1, steps: 1 },
  { model: 'resnet50', mode: 'predict', batch: 32, threads: 2, steps: 4 },
  { model: 'resnet50', mode: 'predict', batch: 32, threads: 1, steps: 2 },
  { model: 'convnet', mode: 'train', batch: 64, threads: 2, steps: 40 },
  // One image at a time: what a user classifying a photo waits for (latency, not throughput).
  { model: 'resnet50', mode: 'predict', batch: 1, threads: 2, steps: 20 },
  { model: 'resnet50', mode: 'predict', batch: 1, threads: 1, steps: 20 },
  { model: 'convnet', mode: 'predict', batch: 1, threads: 1, steps: 200 },
  { model: 'resnet50', mode: 'predict', batch: 1, threads: 2, steps: 3, size: 224 },
  // MobileNetV2 (alpha 1.0) at 96x96, as the MobileNetV2 issue measures it.
  { model: 'mobilenetv2', mode: 'train', batch: 32, threads: 2, steps: 2, size: 96 },
  { model: 'mobilenetv2', mode: 'train', batch: 32, threads: 1, steps: 1, size: 96 },
  { model: 'mobilenetv2', mode: 'predict', batch: 32, threads: 2, steps: 4, size: 96 },
  { model: 'mobilenetv2', mode: 'predict', batch: 32, threads: 1, steps: 2, size: 96 },
  { model: 'mobilenetv2', mode: 'predict', batch: 1, threads: 2, steps: 20, size: 96 },
  { model: 'mobilenetv2', mode: 'predict', batch: 1, threads: 1, steps: 20, size: 96 },
];
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const LAYOUTS = ['channels_last', 'nchw'] as const;

function python(): string | undefined {
  for (const p of [process.env.SIMDNET_PYTHON, 'python3', '/usr/bin/python3']) {
    if (p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return p;
  }
  return undefined;
}

// A PyTorch worker process and its replies, one JSON line per command.
class Worker {
  private readonly replies: ((line: string) => void)[] = [];
  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => this.replies.shift()?.(line));
  }
  ask<T>(command: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.replies.push((line) => {
        const r = JSON.parse(line);
        if (r.error) reject(new Error(r.error)); else resolve(r);
      });
      this.proc.stdin.write(JSON.stringify(command) + '\n');
    });
  }
  close(): void { this.proc.kill(); }
}

// CPU time stolen by the hypervisor and the total, from /proc/stat (jiffies), for a window's share.
function cpuTimes(): { steal: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return { steal: 0, total: 0 };
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

function simdnetCase(c: Case): { model: Model; block: (n: number) => Promise<number> } {
  const size = c.size ?? 64;
  const model = c.model === 'resnet50' ? resNet50({ inputShape: [size, size, 3] })
    : c.model === 'mobilenetv2' ? mobileNetV2({ inputShape: [size, size, 3], alpha: c.alpha }) : convNet();
  model.compile({ optimizer: 'adam', loss: c.model === 'convnet' ? 'softmaxCrossEntropy' : 'categoricalCrossentropy' });
  // A pool of distinct batches, cycled, as the PyTorch side has.
  const pool = Array.from({ length: 4 }, (_, b) => syntheticBatch(c.batch, size, b));
  let k = 0;
  const step = async () => {
    const { x, y } = pool[k++ % pool.length];
    if (c.mode === 'train') await model.trainOnBatch(x, y, { threads: c.threads });
    else await model.predict(x, { threads: c.threads, batchSize: c.batch });
  };
  return {
    model,
    block: async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await step();
      return (performance.now() - t0) / 1000;
    },
  };
}

async function main(): Promise<void> {
  const py = python();
  if (!py) throw new Error('bench:interleaved needs a python3 with torch (Debian: apt-get install python3-torch), or SIMDNET_PYTHON');
  const info = runtimeInfo({ measurePeak: true });
  console.log(`simdnet on ${info.runtime}, kernels ${info.kernels}, SIMD peak ${info.simdPeakGflops} GFLOP/s per core; ${machine().cpu} (${machine().simd})`);
  const results = [];
  for (const c of CASES.filter((k, i) => !ONLY || ONLY.includes(String(i)))) {
    const workers = Object.fromEntries(LAYOUTS.map((layout) => [layout, new Worker(spawn(py, [join(packageRoot(), 'bench', 'pytorch_worker.py')]))])) as Record<typeof LAYOUTS[number], Worker>;
    const setups = await Promise.all(LAYOUTS.map((layout) => workers[layout].ask<{ warmup: number[]; torch: string }>({ setup: { ...c, layout } })));
    const s = simdnetCase(c);
    // Warm-up: plans, workers, kernel choices, and for one image the engine's eight steps that
    // choose between the calling thread and the pool.
    await s.block(c.batch === 1 ? 10 : 3);
    const before = cpuTimes(), load = loadavg()[0];
    const pairs: { simdnet: number; pytorch: Record<string, number> }[] = [];
    for (let p = 0; p < PAIRS; p++) {
      const simdnet = await s.block(c.steps);
      const pytorch: Record<string, number> = {};
      for (const layout of LAYOUTS) pytorch[layout] = sum((await workers[layout].ask<{ seconds: number[] }>({ steps: c.steps })).seconds);
      pairs.push({ simdnet, pytorch });
    }
    // The worker against a plain loop written inline (training only): within 10% is the claim.
    const plain = c.mode === 'train' ? sum((await workers.channels_last.ask<{ seconds: number[] }>({ plain: c.steps * 2 })).seconds) / 2 : undefined;
    const after = cpuTimes();
    await s.model.dispose();
    for (const w of Object.values(workers)) w.close();
    const images = c.batch * c.steps;
    const rate = (seconds: number) => images / seconds;
    // PyTorch at its best: the layout that was faster over the case.
    const best = LAYOUTS.reduce((a, b) => (median(pairs.map((q) => q.pytorch[a])) <= median(pairs.map((q) => q.pytorch[b])) ? a : b));
    const ratios = pairs.map((q) => q.pytorch[best] / q.simdnet);
    const r = {
      ...c, pairs: PAIRS, pytorchLayout: best, torch: setups[0].torch,
      simdnetImagesPerSecond: pairs.map((q) => rate(q.simdnet)),
      pytorchImagesPerSecond: Object.fromEntries(LAYOUTS.map((l) => [l, pairs.map((q) => rate(q.pytorch[l]))])),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      workerVsPlainLoop: plain === undefined ? undefined : median(pairs.map((q) => q.pytorch.channels_last)) / plain,
      stealPercent: after.total > before.total ? (100 * (after.steal - before.steal)) / (after.total - before.total) : 0,
      loadAverage: load,
    };
    const ms = (rates: number[]) => (1000 / median(rates)).toFixed(1);
    console.log(`${c.model}${c.size ? ` ${c.size}x${c.size}` : ''} ${c.mode} batch ${c.batch}, ${c.threads} thread(s): ` +
      (c.batch === 1 ? `${ms(r.simdnetImagesPerSecond)} ms against ${ms(r.pytorchImagesPerSecond[best])} ms; ` : '') +
      `simdnet / PyTorch (${best}) ${r.ratio.median.toFixed(2)} ` +
      `(${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)}); steal ${r.stealPercent.toFixed(1)}%` +
      (r.workerVsPlainLoop === undefined ? '' : `; PyTorch worker / plain loop time ${r.workerVsPlainLoop.toFixed(2)}`));
    results.push(r);
  }
  console.log('\n' + table(['case', 'threads', 'simdnet images/s', 'PyTorch images/s (layout)', 'simdnet / PyTorch (median, range)', 'steal'], results.map((r) => [
    `${r.model}${r.size ? ` ${r.size}px` : ''} ${r.mode} (batch ${r.batch})`, r.threads, median(r.simdnetImagesPerSecond),
    `${median(r.pytorchImagesPerSecond[r.pytorchLayout]).toFixed(1)} (${r.pytorchLayout})`,
    `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)})`, `${r.stealPercent.toFixed(1)}%`,
  ])));
  // A run of some cases only keeps its own file, beside the full run's.
  const path = writeResults(ONLY ? `interleaved-cases-${ONLY.join('-')}.json` : 'interleaved.json', { machine: machine(), simdnet: info, results });
  console.log(`\nWrote ${path}`);
}

await main();
