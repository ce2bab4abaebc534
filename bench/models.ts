// Whole-model benchmarks, simdnet side by side with native PyTorch (when a python3 with torch is
// installed: bench/pytorch_twins.py) and TensorFlow.js (wasm and cpu backends) in the same run:
// ResNet-50 training and inference at batch 32, ConvNet training at batch 64, with 1 thread and
// all; on an AVX-512 machine also PyTorch held to AVX2, with all threads. Each case runs in a
// fresh process, so its peak RSS is its own. Prints the machine's SIMD
// peak, a table with our ratio to each competitor, and writes bench/results/models.json.
//
//   npm run bench:models [-- --quick] [-- --only simdnet|pytorch|tfjs[,...]] [-- --model resnet50|convnet]
//   SIMDNET_PYTHON=/usr/bin/python3 picks the interpreter (default: the first of python3,
//   /usr/bin/python3 that imports torch).

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Runtime } from '../src/kernels/index.js';
import { machine, table, writeResults } from './report.js';

// GFLOP/s of the SIMD peak loop (12 independent multiply-adds) on one core, best of five.
function simdPeak(): number {
  const k = Runtime.create().k, iters = 2_000_000;
  k.simd_peak(1000, 1);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    k.simd_peak(iters, 1);
    best = Math.min(best, performance.now() - t0);
  }
  return (iters * 12 * 8) / (best / 1e3) / 1e9;
}

// pytorch-avx2: the same PyTorch with oneDNN held to AVX2 (ONEDNN_MAX_CPU_ISA), on an AVX-512
// machine: what PyTorch's wider vectors are worth there, for the AVX2-machine comparison.
type System = 'simdnet' | 'pytorch' | 'pytorch-avx2' | 'tfjs-wasm' | 'tfjs-cpu';
interface Case {
  system: System; model: 'resnet50' | 'convnet'; mode: 'train' | 'predict'; batch: number; threads: number; reps: number; note?: string;
  deterministic?: boolean;
}
interface Result extends Case {
  seconds?: number[];  // per measured step
  error?: string;
  peakRssMiB: number;
  flopsPerImage: number;
}

const SIGNS_TRAIN = 1080;

async function runCase(c: Case): Promise<Result> {
  const seconds: number[] = [];
  let flopsPerImage = 0;
  let error: string | undefined;
  if (c.system === 'simdnet') {
    const { resNet50 } = await import('../src/models/resnet50.js');
    const { convNet } = await import('../src/models/convnet.js');
    const { syntheticBatch } = await import('./synthetic-batch.js');
    const { flopsPerSample } = await import('./flops.js');
    const model = c.model === 'resnet50' ? resNet50() : convNet();
    model.compile({ optimizer: 'adam', loss: c.model === 'resnet50' ? 'categoricalCrossentropy' : 'softmaxCrossEntropy' });
    flopsPerImage = flopsPerSample(model, c.mode === 'train');
    const { x, y } = syntheticBatch(c.batch);
    const run = { threads: c.threads, deterministic: c.deterministic };
    const step = () => (c.mode === 'train' ? model.trainOnBatch(x, y, run) : model.predict(x, { ...run, batchSize: c.batch }));
    await step(); // warm-up: plans, worker start-up
    for (let r = 0; r < c.reps; r++) {
      const t0 = performance.now();
      await step();
      seconds.push((performance.now() - t0) / 1000);
    }
    await model.dispose();
  } else {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
    await tf.setBackend(c.system === 'tfjs-wasm' ? 'wasm' : 'cpu');
    await tf.ready();
    const { tfjsResNet50, tfjsConvNet } = await import('./tfjs-models.js');
    const model = c.model === 'resnet50' ? tfjsResNet50() : tfjsConvNet();
    const x = tf.randomUniform([c.batch, 64, 64, 3]);
    const y = tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: c.batch }, (_, i) => i % 6), 'int32'), 6), 'float32');
    const step = async () => {
      if (c.mode === 'train') await model.trainOnBatch(x, y);
      else tf.tidy(() => (model.predict(x) as import('@tensorflow/tfjs-core').Tensor).dataSync());
    };
    try {
      if (c.reps > 1) await step();
      for (let r = 0; r < c.reps; r++) {
        const t0 = performance.now();
        await step();
        seconds.push((performance.now() - t0) / 1000);
      }
    } catch (err) {
      error = (err as Error).message.split('\n')[0];
    }
  }
  return { ...c, seconds: error ? undefined : seconds, error, peakRssMiB: process.resourceUsage().maxRSS / 1024, flopsPerImage };
}

// A python3 that imports torch, or undefined.
function torchPython(): string | undefined {
  const candidates = process.env.SIMDNET_PYTHON ? [process.env.SIMDNET_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
}

function cases(quick: boolean, wanted: (system: string) => boolean, python: string | undefined, avx512: boolean): Case[] {
  const all = availableParallelism();
  const reps = quick ? 2 : 5;
  const list: Case[] = [];
  const threadCounts = all > 1 ? [1, all] : [1];
  if (wanted('simdnet')) {
    for (const threads of threadCounts) {
      list.push({ system: 'simdnet', model: 'resnet50', mode: 'train', batch: 32, threads, reps });
      list.push({ system: 'simdnet', model: 'resnet50', mode: 'predict', batch: 32, threads, reps });
      list.push({ system: 'simdnet', model: 'convnet', mode: 'train', batch: 64, threads, reps: reps * 4 });
    }
    // What deterministic mode (4 shards whatever the thread count) costs.
    for (const threads of threadCounts) {
      list.push({ system: 'simdnet', model: 'resnet50', mode: 'train', batch: 32, threads, reps, deterministic: true, note: 'deterministic' });
    }
  }
  if (python && wanted('pytorch')) {
    for (const threads of threadCounts) {
      list.push({ system: 'pytorch', model: 'resnet50', mode: 'train', batch: 32, threads, reps });
      list.push({ system: 'pytorch', model: 'resnet50', mode: 'predict', batch: 32, threads, reps });
      list.push({ system: 'pytorch', model: 'convnet', mode: 'train', batch: 64, threads, reps: reps * 4 });
    }
    if (avx512) {
      list.push({ system: 'pytorch-avx2', model: 'resnet50', mode: 'train', batch: 32, threads: threadCounts.at(-1)!, reps });
      list.push({ system: 'pytorch-avx2', model: 'resnet50', mode: 'predict', batch: 32, threads: threadCounts.at(-1)!, reps });
      list.push({ system: 'pytorch-avx2', model: 'convnet', mode: 'train', batch: 64, threads: threadCounts.at(-1)!, reps: reps * 4 });
    }
  }
  if (wanted('tfjs')) {
    list.push({ system: 'tfjs-wasm', model: 'resnet50', mode: 'train', batch: 32, threads: 1, reps: 1 });
    list.push({ system: 'tfjs-wasm', model: 'resnet50', mode: 'predict', batch: 32, threads: 1, reps });
    list.push({ system: 'tfjs-wasm', model: 'convnet', mode: 'train', batch: 64, threads: 1, reps: 1 });
    // The cpu backend needs minutes per ResNet-50 step at batch 32: smaller batches, said in the table.
    if (!quick) list.push({ system: 'tfjs-cpu', model: 'resnet50', mode: 'train', batch: 2, threads: 1, reps: 1, note: 'batch 2' });
    list.push({ system: 'tfjs-cpu', model: 'resnet50', mode: 'predict', batch: quick ? 2 : 8, threads: 1, reps: 1, note: quick ? 'batch 2' : 'batch 8' });
    list.push({ system: 'tfjs-cpu', model: 'convnet', mode: 'train', batch: quick ? 8 : 64, threads: 1, reps: quick ? 1 : 2, note: quick ? 'batch 8' : undefined });
  }
  return list;
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--case') {
    console.log(JSON.stringify(await runCase(JSON.parse(argv[1]))));
    return;
  }
  const quick = argv.includes('--quick');
  const valueOf = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const only = valueOf('--only')?.split(','), model = valueOf('--model');
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '--only' || argv[i] === '--model') && i + 1 < argv.length) i++;
    else if (argv[i] !== '--quick') throw new Error(`bench/models: unknown or incomplete argument ${argv[i]}`);
  }
  for (const s of only ?? []) if (!['simdnet', 'pytorch', 'tfjs'].includes(s)) throw new Error(`bench/models: --only takes simdnet, pytorch, tfjs; got ${s}`);
  if (model !== undefined && model !== 'resnet50' && model !== 'convnet') throw new Error(`bench/models: --model takes resnet50 or convnet; got ${model}`);
  const wanted = (system: string) => only === undefined || only.includes(system);
  const self = fileURLToPath(import.meta.url);
  const twins = join(dirname(self), '..', '..', 'bench', 'pytorch_twins.py');
  const python = wanted('pytorch') ? torchPython() : undefined;
  const results: Result[] = [];
  const m = machine();
  const peak = simdPeak();
  console.log(`simdnet model benchmarks${quick ? ' (quick)' : ''}: ${m.cpu} (${m.simd}), ${m.cores} cores, Node ${process.version}`);
  console.log(`WebAssembly SIMD peak loop: ${peak.toFixed(1)} GFLOP/s per core`);
  console.log(python ? `PyTorch: ${python}` : 'PyTorch: no python3 with torch here (Debian: apt install python3-torch); its rows are left out');
  for (const c of cases(quick, wanted, python, m.simd === 'AVX-512').filter((c) => model === undefined || c.model === model)) {
    process.stdout.write(`  ${c.system} ${c.model} ${c.mode} batch ${c.batch}, ${c.threads} thread(s)${c.note ? ` (${c.note})` : ''} ... `);
    const avx2 = c.system === 'pytorch-avx2' ? { ONEDNN_MAX_CPU_ISA: 'AVX2' } : {};
    const r = c.system === 'pytorch' || c.system === 'pytorch-avx2'
      ? spawnSync(python!, [twins, JSON.stringify(c)], { encoding: 'utf8', timeout: 30 * 60_000, env: { ...process.env, ...avx2 } })
      : spawnSync(process.execPath, [self, '--case', JSON.stringify(c)], { encoding: 'utf8', timeout: 30 * 60_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let res: Result;
    try {
      res = JSON.parse(line);
    } catch {
      res = { ...c, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop(), peakRssMiB: 0, flopsPerImage: 0 };
    }
    console.log(res.seconds ? `${(c.batch / median(res.seconds)).toFixed(1)} images/s` : `failed: ${res.error}`);
    results.push(res);
  }
  const ours = (model: string, mode: string) => {
    const mine = results.filter((r) => r.system === 'simdnet' && !r.deterministic && r.model === model && r.mode === mode && r.seconds);
    return Math.max(0, ...mine.map((r) => r.batch / median(r.seconds!)));
  };
  const flopsOf = (model: string, mode: string) => results.find((r) => r.system === 'simdnet' && r.model === model && r.mode === mode)?.flopsPerImage ?? 0;
  const rows = results.map((r) => {
    const what = `${r.model} ${r.mode}`;
    if (!r.seconds) {
      const why = /Conv2DBackpropFilter/.test(r.error ?? '') ? 'cannot train: no Conv2DBackpropFilter' : `failed: ${r.error}`;
      return [what, r.system, r.batch, r.threads, '-', '-', '-', why, '-', '-', r.peakRssMiB ? r.peakRssMiB.toFixed(0) : '-', '-'];
    }
    const s = [...r.seconds].sort((a, b) => a - b);
    const ips = r.batch / median(s);
    const epoch = r.mode === 'train' ? (SIGNS_TRAIN / ips).toFixed(1) : '-';
    const gflops = (ips * (r.flopsPerImage || flopsOf(r.model, r.mode))) / 1e9;
    const ratio = r.system === 'simdnet' ? '-' : `${(ours(r.model, r.mode) / ips).toFixed(1)}x`;
    const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
    return [what, r.system + (r.note ? ` (${r.note})` : ''), r.batch, r.threads, s[0].toFixed(3), median(s).toFixed(3), s[s.length - 1].toFixed(3), sig(ips), epoch, sig(gflops), r.peakRssMiB.toFixed(0), ratio];
  });
  console.log('\n' + table(['case', 'system', 'batch', 'threads', 'min s/step', 'median s/step', 'max s/step', 'images/s', 's per SIGNS epoch', 'GFLOP/s', 'peak RSS MiB', 'simdnet is'], rows));
  console.log('"simdnet is": simdnet\'s best images/s for the case (any thread count) over this system\'s.');
  // Effective throughput: the direct convolution's FLOPs per image at the images/s reached, over
  // the peak loop of all cores.
  const trainIps = ours('resnet50', 'train'), effective = (trainIps * flopsOf('resnet50', 'train')) / 1e9;
  if (trainIps > 0) {
    console.log(`ResNet-50 training: ${effective.toFixed(1)} effective GFLOP/s = ${((100 * effective) / (peak * m.cores)).toFixed(0)}% of the ${m.cores}-core peak loop (${(peak * m.cores).toFixed(1)} GFLOP/s)`);
  }
  console.log(`\nwrote ${writeResults('models.json', { machine: m, quick, peakGflopsPerCore: peak, results })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
