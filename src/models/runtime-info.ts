// What simdnet runs on here, for a user to check and a page to show: the platform, kernels,
// threads, whether threads can share memory, and the single-core SIMD peak.

import { platform } from '#platform';
import { chooseVariant, compileKernels, createMemory, instantiateKernels, type KernelVariant } from '../kernels/wasm.js';
import { ISOLATION_NOTE } from './isolation.js';
import { defaultThreads } from './model.js';

/** What runtimeInfo reports: the runtime, kernel build, threads and (optionally) the SIMD peak. */
export interface RuntimeInfo {
  /** 'node' (Node, Bun, Deno) or 'browser'. */
  platform: 'node' | 'browser';
  /** The runtime and its version, e.g. "node 20.20.2" or "Chrome 147". */
  runtime: string;
  cpu: string;
  /** The kernel build `fit` and `predict` use: 'relaxed-simd' where the runtime validates it, else 'simd'. */
  kernels: KernelVariant;
  /** Threads `fit` uses by default. */
  threads: number;
  /**
   * Whether worker threads can share the model's memory. In a page only when it is
   * cross-origin isolated; otherwise everything runs on one thread.
   */
  sharedMemory: boolean;
  /** Why threads are limited to one, when they are. */
  threadsNote?: string;
  /** The SIMD peak loop on one core, GFLOP/s (measured when `measurePeak` is true). */
  simdPeakGflops?: number;
}


// The peak loop of the build in use (relaxed SIMD's is fused): 12 independent 4-lane
// multiply-adds per round, 96 FLOPs a round.
function measurePeak(variant: KernelVariant): number {
  const k = instantiateKernels(compileKernels(variant), createMemory(2 * 65536));
  k.simd_peak(1000, 1);
  let iters = 1 << 16, ms = 0;
  while ((ms = time(() => k.simd_peak(iters, 1))) < 50) iters *= 2;
  const best = Math.min(ms, time(() => k.simd_peak(iters, 1)), time(() => k.simd_peak(iters, 1)));
  return (iters * 96) / best / 1e6;
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** What simdnet runs on here. `measurePeak` times the SIMD peak loop (about 0.2 s). Default false. */
export function runtimeInfo(options: { measurePeak?: boolean } = {}): RuntimeInfo {
  const shared = platform.canShareMemory();
  const kernels = chooseVariant();
  return {
    platform: platform.name,
    runtime: platform.runtime,
    cpu: platform.cpuModel(),
    kernels,
    threads: defaultThreads(),
    sharedMemory: shared,
    ...(shared ? {} : { threadsNote: ISOLATION_NOTE }),
    ...(options.measurePeak ? { simdPeakGflops: Math.round(measurePeak(kernels) * 10) / 10 } : {}),
  };
}
