// Kernel benchmarks (tinybench), one core: the SIMD peak, the GEMM microkernels, every distinct
// convolution of a ResNet-50 training step at 64x64 (forward and both backwards), batch norm and
// pooling at their ResNet-50 shapes. Prints tables and writes bench/results/kernels.json.
//
//   npm run bench:kernels [-- --quick] [-- --variant simd|relaxed-simd] [-- --batch 32]

import { Bench } from 'tinybench';
import { Runtime, type KernelVariant } from '../src/kernels/index.js';
import { isPointwise, window2d } from '../src/kernels/padding.js';
import { directScratchBytes, winograd4x4Applies, winogradApplies, winogradScratchBytes } from '../src/kernels/conv-algorithm.js';
import { useGemmBlocking } from '../src/kernels/gemm-blocking.js';
import { machine, table, writeResults } from './report.js';
import { resnetShapes } from './resnet-shapes.js';
import { mobileNetV2 } from '../src/models/mobilenetv2.js';
import { DepthwiseConv2D } from '../src/layers/depthwise-conv2d.js';

interface Args { quick: boolean; variant?: KernelVariant; batch: number; only?: 'depthwise' }

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, batch: 32 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--variant') args.variant = argv[++i] as KernelVariant;
    else if (a === '--batch') args.batch = Number(argv[++i]);
    else if (a === '--only' && argv[i + 1] === 'depthwise') args.only = argv[++i] as 'depthwise';
    else throw new Error(`bench/kernels: unknown argument ${a} (expected --quick, --variant simd|relaxed-simd, --batch N, --only depthwise)`);
  }
  if (!Number.isInteger(args.batch) || args.batch < 1) throw new Error('bench/kernels: --batch must be a positive integer');
  return args;
}

function fill(rt: Runtime, ptr: number, n: number, seed: number): void {
  const a = rt.f32(ptr, n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = s / 4294967296 - 0.5;
  }
}

async function median(fn: () => void, quick: boolean): Promise<number> {
  const bench = new Bench({ time: quick ? 60 : 400, iterations: quick ? 2 : 5, warmupTime: quick ? 20 : 100, warmupIterations: 1 });
  bench.add('task', fn);
  await bench.run();
  const r = bench.tasks[0].result as { latency?: { p50: number } };
  if (!r.latency) throw new Error('bench/kernels: a task failed to run');
  return r.latency.p50;
}

// Every distinct depthwise convolution of MobileNetV2 (alpha 1.0) at 96x96: its share of the
// SIMD peak loop (a depthwise 3x3 does 9 multiply-adds per value it loads: memory-bound).
async function depthwiseShapes(rt: Runtime, peak: number, N: number, quick: boolean): Promise<object[]> {
  const k = rt.k;
  const dwRows: (string | number)[][] = [];
  const dwJson: object[] = [];
  const dwShapes = new Map<string, { H: number; W: number; C: number; stride: number; OH: number; OW: number; padT: number; padL: number; layers: number }>();
  for (const l of mobileNetV2({ inputShape: [96, 96, 3] }).layers) {
    if (!(l instanceof DepthwiseConv2D)) continue;
    const [H, W, C] = l.inputShapes[0], [OH, OW] = l.outputShape;
    const g = window2d(H, W, 3, 3, l.strides, l.padding);
    const key = `3x3/${l.strides} ${H}x${W}x${C}`;
    const e = dwShapes.get(key);
    if (e) e.layers++; else dwShapes.set(key, { H, W, C, stride: l.strides, OH, OW, padT: g.padT, padL: g.padL, layers: 1 });
  }
  for (const [name, s] of dwShapes) {
    const mark = rt.arena.mark();
    const xN = N * s.H * s.W * s.C, yN = N * s.OH * s.OW * s.C;
    const x = rt.arena.allocF32(xN), w = rt.arena.allocF32(9 * s.C), y = rt.arena.allocF32(yN), dx = rt.arena.allocF32(xN), dw = rt.arena.allocF32(9 * s.C);
    fill(rt, x, xN, 8); fill(rt, w, 9 * s.C, 9); fill(rt, y, yN, 10);
    const geo = [N, s.H, s.W, s.C, 3, 3, s.stride, 1, s.padT, s.padL, s.OH, s.OW] as const;
    const flops = 2 * 9 * yN;
    const passes: Record<string, () => void> = {
      forward: () => k.depthwise_conv2d_forward(x, w, 0, y, ...geo),
      'backward input': () => k.depthwise_conv2d_backward_input(y, w, dx, ...geo),
      'backward kernel': () => k.depthwise_conv2d_backward_kernel(x, y, dw, 0, ...geo, 0),
    };
    for (const [pass, fn] of Object.entries(passes)) {
      const ms = await median(fn, quick);
      const gf = flops / (ms / 1e3) / 1e9;
      dwRows.push([name, pass, s.layers, ms, gf, `${((100 * gf) / peak).toFixed(0)}%`]);
      dwJson.push({ name, ...s, pass, ms, gflops: gf, ofPeak: gf / peak });
    }
    rt.arena.freeSince(mark);
  }
  console.log(`\nMobileNetV2 (96x96) depthwise convolutions at batch ${N}`);
  console.log(table(['depthwise (k/stride HxWxC)', 'pass', 'layers', 'median ms', 'GFLOP/s', 'of peak'], dwRows));

  return dwJson;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = Runtime.create({ variant: args.variant });
  const k = rt.k;
  console.log(`simdnet kernel benchmarks: ${rt.variant} kernels, one thread, batch ${args.batch}${args.quick ? ' (quick)' : ''}`);

  // The ceiling: independent multiply-adds on registers.
  const iters = 2_000_000;
  k.simd_peak(1000, 1);
  const peakMs = await median(() => k.simd_peak(iters, 1), args.quick);
  const peak = (iters * 12 * 8) / (peakMs / 1e3) / 1e9;
  console.log(`\nSIMD peak (12 independent f32x4 multiply-adds): ${peak.toFixed(1)} GFLOP/s`);
  if (args.only === 'depthwise') {
    const depthwise = await depthwiseShapes(rt, peak, args.batch, args.quick);
    console.log(`\nwrote ${writeResults('kernels-depthwise.json', { machine: machine(), variant: rt.variant, batch: args.batch, peakGflops: peak, depthwise })}`);
    return;
  }
  // The blocking engines use on this machine (measured once, then cached): every GEMM below runs it.
  const blocking = useGemmBlocking(rt);
  console.log(`GEMM blocking for this machine: ${blocking.mr}x8 tile, MC ${blocking.mc}, KC ${blocking.kc}, NC ${blocking.nc}\n`);

  // GEMM microkernels on the large ResNet-50 shapes.
  const gemmShapes: [number, number, number, string][] = [
    [7200, 64, 256, 'res2 1x1 expand, batch 32'], [512, 2304, 256, 'res4 3x3 as im2col, batch 32'],
    [7200, 576, 64, 'res2 3x3 as im2col, batch 32'], [2048, 512, 2048, 'res5 1x1, batch 128-equivalent'],
  ];
  const gemmRows: (string | number)[][] = [];
  const gemmJson = [];
  for (const [M, K, N, what] of gemmShapes) {
    const mark = rt.arena.mark();
    const a = rt.arena.allocF32(M * K), b = rt.arena.allocF32(K * N), c = rt.arena.allocF32(M * N);
    fill(rt, a, M * K, 1); fill(rt, b, K * N, 2);
    const flops = 2 * M * N * K;
    for (const name of ['gemm_4x8', 'gemm_5x8', 'gemm_6x8'] as const) {
      const ms = await median(() => k[name](M, N, K, a, K, 1, b, N, 1, c, N, 0, rt.gemmWorkspace), args.quick);
      const gf = flops / (ms / 1e3) / 1e9;
      gemmRows.push([`${M}x${K}x${N} (${what})`, name, ms, gf, `${((100 * gf) / peak).toFixed(0)}%`]);
      gemmJson.push({ M, K, N, kernel: name, ms, gflops: gf, ofPeak: gf / peak });
    }
    rt.arena.freeSince(mark);
  }
  console.log(table(['GEMM (M x K x N)', 'microkernel', 'median ms', 'GFLOP/s', 'of peak'], gemmRows));

  // Thin GEMMs (few rows of A: the Winograd planes of res4 and res5 at 8-16 images a shard), B
  // packed against B read in place (the default up to B_IN_PLACE_ROWS rows: assembly/gemm.ts).
  const thinRows: (string | number)[][] = [];
  const thinJson = [];
  for (const [M, K, N] of [[16, 512, 512], [32, 256, 256], [48, 512, 512], [64, 512, 512]]) {
    const mark = rt.arena.mark();
    const a = rt.arena.allocF32(M * K), b = rt.arena.allocF32(K * N), c = rt.arena.allocF32(M * N);
    fill(rt, a, M * K, 6); fill(rt, b, K * N, 7);
    const gf = (ms: number) => (2 * M * N * K) / (ms / 1e3) / 1e9;
    const defaultRows = k.gemm_set_b_in_place_rows(0);
    const packed = await median(() => k.sgemm(M, N, K, a, K, 1, b, N, 1, c, N, 0, rt.gemmWorkspace), args.quick);
    k.gemm_set_b_in_place_rows(1 << 30);
    const inPlace = await median(() => k.sgemm(M, N, K, a, K, 1, b, N, 1, c, N, 0, rt.gemmWorkspace), args.quick);
    k.gemm_set_b_in_place_rows(defaultRows);
    thinRows.push([`${M}x${K}x${N}`, gf(packed), gf(inPlace), M <= defaultRows ? 'in place' : 'packed']);
    thinJson.push({ M, K, N, packedGflops: gf(packed), inPlaceGflops: gf(inPlace) });
    rt.arena.freeSince(mark);
  }
  console.log('\n' + table(['thin GEMM (M x K x N)', 'B packed GFLOP/s', 'B in place GFLOP/s', 'default'], thinRows));

  // Every distinct convolution of ResNet-50.
  const { convs, bns } = resnetShapes(args.batch);
  const convRows: (string | number)[][] = [];
  const convJson = [];
  let totals = { flops: 0, ms: 0 };
  for (const s of convs) {
    const mark = rt.arena.mark();
    const xN = s.N * s.H * s.W * s.C, yN = s.N * s.OH * s.OW * s.F, wN = s.K * s.K * s.C * s.F;
    const x = rt.arena.allocF32(xN), w = rt.arena.allocF32(wN), b = rt.arena.allocF32(s.F), y = rt.arena.allocF32(yN);
    const dx = rt.arena.allocF32(xN), dw = rt.arena.allocF32(wN), db = rt.arena.allocF32(s.F);
    const cols = isPointwise(s.K, s.K, s.stride, s.padT, s.padL) ? 0 : rt.arena.allocF32(s.N * s.OH * s.OW * s.K * s.K * s.C);
    fill(rt, x, xN, 3); fill(rt, w, wN, 4); fill(rt, y, yN, 5);
    const geo = [s.N, s.H, s.W, s.C, s.K, s.K, s.F, s.stride, s.padT, s.padL, s.OH, s.OW] as const;
    const passes: Record<string, () => void> = {
      forward: () => k.conv2d_forward(x, w, b, y, ...geo, cols, rt.gemmWorkspace),
      'backward input': () => k.conv2d_backward_input(y, w, dx, ...geo, cols, rt.gemmWorkspace),
      'backward kernel': () => k.conv2d_backward_kernel(x, y, dw, db, ...geo, 0, cols, rt.gemmWorkspace),
    };
    // Winograd F(2x2, 3x3) and F(4x4, 3x3) where they apply; their GFLOP/s are effective ones (the
    // direct convolution's FLOPs).
    const g = { ...s, KH: s.K, KW: s.K };
    for (const [tile, applies] of [[2, winogradApplies(g)], [4, winograd4x4Applies(g)]] as const) {
      if (!applies) continue;
      const scratch = rt.arena.alloc(winogradScratchBytes(g, tile));
      const wgeo = [s.N, s.H, s.W, s.C, s.F, s.padT, s.padL, s.OH, s.OW] as const;
      const F = `F(${tile}x${tile})`;
      passes[`forward (${F})`] = () => k.conv2d_winograd_forward(x, w, b, y, ...wgeo, tile, scratch, rt.gemmWorkspace);
      passes[`backward input (${F})`] = () => k.conv2d_winograd_backward_input(y, w, dx, ...wgeo, tile, scratch, rt.gemmWorkspace);
      passes[`backward kernel (${F})`] = () => k.conv2d_winograd_backward_kernel(x, y, dw, db, ...wgeo, 0, tile, scratch, rt.gemmWorkspace);
    }
    for (const [pass, fn] of Object.entries(passes)) {
      const ms = await median(fn, args.quick);
      const gf = s.flops / (ms / 1e3) / 1e9;
      const name = `${s.K}x${s.K}/${s.stride} ${s.H}x${s.W}x${s.C}->${s.F}`;
      convRows.push([name, pass, s.layers.length, ms, gf, `${((100 * gf) / peak).toFixed(0)}%`]);
      convJson.push({ ...s, pass, ms, gflops: gf, ofPeak: gf / peak });
      if (!pass.includes('Winograd')) totals = { flops: totals.flops + s.flops * s.layers.length, ms: totals.ms + ms * s.layers.length };
    }
    rt.arena.freeSince(mark);
  }
  console.log(`\nResNet-50 convolutions at batch ${args.batch} (layers: how many layers share the shape)`);
  console.log(table(['convolution (k/stride HxWxC->F)', 'pass', 'layers', 'median ms', 'GFLOP/s', 'of peak'], convRows));
  console.log(`All convolutions of one training step: ${(totals.ms / 1e3).toFixed(2)} s, ${(totals.flops / 1e9).toFixed(1)} GFLOP, ` +
    `${(totals.flops / (totals.ms / 1e3) / 1e9).toFixed(1)} GFLOP/s`);

  // Batch norm (training forward and backward) and pooling at their ResNet-50 shapes.
  const bnRows: (string | number)[][] = [];
  const bnJson = [];
  let bnTotal = 0;
  for (const s of bns) {
    const mark = rt.arena.mark();
    const n = s.M * s.C;
    const x = rt.arena.allocF32(n), y = rt.arena.allocF32(n), dy = rt.arena.allocF32(n), dx = rt.arena.allocF32(n);
    const p = rt.arena.allocF32(12 * s.C), sums = rt.arena.alloc(16 * s.C);
    fill(rt, x, n, 6); fill(rt, dy, n, 7); rt.f32(p, 12 * s.C).fill(1);
    const [gamma, beta, mm, mv, mean, variance, invstd, coef, dg, dbt] = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11].map((i) => p + 4 * s.C * i);
    const fwd = () => {
      k.bn_forward_sums(x, s.M, s.C, sums, sums + 8 * s.C);
      k.bn_forward_stats(sums, sums + 8 * s.C, s.M, 1e-3, s.C, mean, variance, invstd);
      k.bn_forward_normalize(x, s.M, s.C, mean, invstd, gamma, beta, y);
      k.bn_update_moving(mean, variance, mm, mv, s.C, 0.99);
    };
    const bwd = () => {
      k.bn_backward_sums(dy, x, mean, invstd, s.M, s.C, sums, sums + 8 * s.C);
      k.bn_param_grads(sums, sums + 8 * s.C, s.C, dg, dbt, 0);
      k.bn_backward_dx(dy, x, mean, invstd, gamma, sums, sums + 8 * s.C, s.M, s.M, s.C, coef, dx);
    };
    fwd();
    for (const [pass, fn, bytes] of [['forward', fwd, 3 * n * 4], ['backward', bwd, 5 * n * 4]] as const) {
      const ms = await median(fn, args.quick);
      bnRows.push([`${s.M}x${s.C}`, pass, s.layers.length, ms, bytes / (ms / 1e3) / 1e9]);
      bnJson.push({ ...s, pass, ms, gbPerS: bytes / (ms / 1e3) / 1e9 });
      bnTotal += ms * s.layers.length;
    }
    rt.arena.freeSince(mark);
  }
  console.log('\nBatch norm at ResNet-50 shapes (rows x channels; GB/s of the passes over activations)');
  console.log(table(['rows x channels', 'pass', 'layers', 'median ms', 'GB/s'], bnRows));
  console.log(`All batch norms of one training step: ${(bnTotal / 1e3).toFixed(3)} s`);

  const N = args.batch;
  const poolRows: (string | number)[][] = [];
  const poolJson = [];
  {
    const mark = rt.arena.mark();
    const x = rt.arena.allocF32(N * 32 * 32 * 64), y = rt.arena.allocF32(N * 15 * 15 * 64), arg = rt.arena.allocF32(N * 15 * 15 * 64);
    const dx = rt.arena.allocF32(N * 32 * 32 * 64);
    fill(rt, x, N * 32 * 32 * 64, 8);
    const cases: [string, () => void][] = [
      ['max 3x3/2 32x32x64 forward', () => k.maxpool_forward(x, y, arg, N, 32, 32, 64, 3, 3, 2, 0, 0, 15, 15, 0)],
      ['max 3x3/2 32x32x64 backward', () => k.maxpool_backward(y, arg, dx, N * 15 * 15 * 64, N * 32 * 32 * 64)],
      ['avg 2x2/2 2x2x2048 forward', () => k.avgpool_forward(x, y, N, 2, 2, 2048, 2, 2, 2, 0, 0, 1, 1)],
      ['avg 2x2/2 2x2x2048 backward', () => k.avgpool_backward(y, dx, N, 2, 2, 2048, 2, 2, 2, 0, 0, 1, 1)],
      ['relu 15x15x256 forward', () => k.relu_forward(x, dx, N * 15 * 15 * 256)],
      ['add 15x15x256', () => k.add(x, dx, dx, N * 15 * 15 * 256)],
    ];
    for (const [name, fn] of cases) {
      const ms = await median(fn, args.quick);
      poolRows.push([name, ms]);
      poolJson.push({ name, ms });
    }
    rt.arena.freeSince(mark);
  }
  console.log('\nPooling and element-wise ops at ResNet-50 shapes');
  console.log(table(['op', 'median ms'], poolRows));

  // The ConvNet's first layer and pool at its batch of 64: the direct kernel against im2col.
  const convnetRows: (string | number)[][] = [];
  const convnetJson = [];
  {
    const mark = rt.arena.mark();
    const B = 64, H = 64, C = 3, K = 4, F = 8;
    const g = { N: B, H, W: H, C, F, KH: K, KW: K, stride: 1, ...window2d(H, H, K, K, 1, 'same') };
    const x = rt.arena.allocF32(B * H * H * C), w = rt.arena.allocF32(K * K * C * F), y = rt.arena.allocF32(B * H * H * F), dw = rt.arena.allocF32(K * K * C * F);
    const cols = rt.arena.allocF32(B * H * H * K * K * C), scratch = rt.arena.alloc(directScratchBytes(g));
    const pooled = rt.arena.allocF32(B * 8 * 8 * F), arg = rt.arena.allocF32(B * 8 * 8 * F);
    fill(rt, x, B * H * H * C, 9); fill(rt, w, K * K * C * F, 10); fill(rt, y, B * H * H * F, 11);
    const geo = [B, H, H, C, K, K, F, 1, g.padT, g.padL, g.OH, g.OW] as const;
    const flops = 2 * B * H * H * K * K * C * F;
    const pool = window2d(H, H, 8, 8, 8, 'same');
    const cases: [string, number, () => void][] = [
      ['W1 4x4 64x64x3->8 forward, im2col', flops, () => k.conv2d_forward(x, w, 0, y, ...geo, cols, rt.gemmWorkspace)],
      ['W1 forward, direct', flops, () => k.conv2d_direct_forward(x, w, 0, y, ...geo, scratch)],
      ['W1 kernel gradient, im2col', flops, () => k.conv2d_backward_kernel(x, y, dw, 0, ...geo, 0, cols, rt.gemmWorkspace)],
      ['W1 kernel gradient, direct', flops, () => k.conv2d_direct_backward_kernel(x, y, dw, 0, ...geo, 0, scratch)],
      ['max 8x8/8 64x64x8 forward', 0, () => k.maxpool_forward(y, pooled, arg, B, H, H, F, 8, 8, 8, pool.padT, pool.padL, pool.OH, pool.OW, 0)],
      ['max 8x8/8 forward, the ReLU before it folded in', 0, () => k.maxpool_forward(y, pooled, arg, B, H, H, F, 8, 8, 8, pool.padT, pool.padL, pool.OH, pool.OW, 1)],
      ['max 8x8/8 64x64x8 backward', 0, () => k.maxpool_backward(pooled, arg, y, B * 8 * 8 * F, B * H * H * F)],
      // y now holds what the pool passes back: one pixel in 64 per filter (GFLOP/s: the dense pass's FLOPs).
      ['W1 kernel gradient, direct, dy from the pool', flops, () => k.conv2d_direct_backward_kernel(x, y, dw, 0, ...geo, 0, scratch)],
      ['relu 64x64x8 forward', 0, () => k.relu_forward(y, y, B * H * H * F)],
    ];
    for (const [name, f, fn] of cases) {
      const ms = await median(fn, args.quick);
      const gf = f ? f / (ms / 1e3) / 1e9 : 0;
      convnetRows.push([name, ms, f ? gf : '-', f ? `${((100 * gf) / peak).toFixed(0)}%` : '-']);
      convnetJson.push({ name, ms, gflops: f ? gf : undefined });
    }
    rt.arena.freeSince(mark);
  }
  console.log('\nThe ConvNet\'s first layer and pool, batch 64');
  console.log(table(['op', 'median ms', 'GFLOP/s', 'of peak'], convnetRows));

  const dwJson = await depthwiseShapes(rt, peak, N, args.quick);

  const path = writeResults('kernels.json', {
    machine: machine(), variant: rt.variant, batch: N, quick: args.quick, peakGflops: peak, gemmBlocking: blocking,
    gemm: gemmJson, thinGemm: thinJson, conv: convJson, batchnorm: bnJson, pooling: poolJson, convnet: convnetJson, depthwise: dwJson,
    convTotals: { seconds: totals.ms / 1e3, gflop: totals.flops / 1e9 },
  });
  console.log(`\nwrote ${path}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
