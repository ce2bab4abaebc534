// The GEMM's tile and cache blocking for the machine it runs on. The defaults (4x8 tile, KC 256,
// MC 120, NC 1024) were tuned on a Zen 4 and ran at 56-61% of the peak loop on an AVX2 EPYC, so the
// first engine on a machine measures a few candidates on ResNet-50-like shapes and keeps the
// fastest (tuning-cache.ts), as XNNPACK picks per platform. SIMDNET_GEMM_BLOCKING="mr,mc,kc,nc"
// or setGemmBlocking() forces one.

import { platform } from '#platform';
import { ArgumentError, describe } from '../errors.js';
import type { Runtime } from './index.js';
import { cached, machineKey, remember } from './tuning-cache.js';

/** The GEMM's cache blocking: row tile, and the panel sizes of A and B (setGemmBlocking). */
export interface GemmBlocking {
  /** Rows of the register tile: 4, 5 or 6 (gemm_4x8, gemm_5x8, gemm_6x8). */
  mr: number;
  /** Rows of A packed at a time (a multiple of mr, at most 240). */
  mc: number;
  /** Depth packed at a time (16 to 512). */
  kc: number;
  /** Columns of B packed at a time (a multiple of 8, at most 1024). */
  nc: number;
}

export const DEFAULT_GEMM_BLOCKING: GemmBlocking = { mr: 4, mc: 120, kc: 256, nc: 1024 };

const CANDIDATES: GemmBlocking[] = [];
for (const mr of [4, 5, 6]) for (const kc of [128, 256, 512]) for (const mc of [60, 120, 240]) CANDIDATES.push({ mr, mc, kc, nc: 1024 });

// Shapes the ResNet-50 step spends its time in: a 1x1 expansion, a 3x3 by im2col, a deep 1x1.
const SHAPES: [number, number, number][] = [[1024, 64, 256], [512, 1152, 128], [128, 1024, 512]];

let forced: GemmBlocking | 'auto' | undefined;

function check(b: GemmBlocking, where: string): GemmBlocking {
  const ok = b && [4, 5, 6].includes(b.mr) && Number.isInteger(b.mc) && b.mc >= b.mr && b.mc <= 240 && b.mc % b.mr === 0 &&
    Number.isInteger(b.kc) && b.kc >= 16 && b.kc <= 512 && Number.isInteger(b.nc) && b.nc >= 8 && b.nc <= 1024 && b.nc % 8 === 0;
  if (!ok) {
    throw new ArgumentError(`${where}: a GEMM blocking needs mr 4, 5 or 6, mc a multiple of mr up to 240, kc 16 to 512 and nc a multiple of 8 up to 1024; got ${describe(b)}`);
  }
  return { mr: b.mr, mc: b.mc, kc: b.kc, nc: b.nc };
}

/**
 * Forces the GEMM blocking of engines laid out after the call (overriding SIMDNET_GEMM_BLOCKING);
 * 'auto' goes back to the default: SIMDNET_GEMM_BLOCKING if set, else measured once per machine.
 */
export function setGemmBlocking(blocking: GemmBlocking | 'auto'): void {
  forced = blocking === 'auto' ? 'auto' : check(blocking, 'setGemmBlocking');
}

function requested(): GemmBlocking | 'auto' {
  if (forced && forced !== 'auto') return forced;
  const env = platform.setting('SIMDNET_GEMM_BLOCKING');
  if (env === undefined || env === '' || env === 'auto') return 'auto';
  const parts = env.split(',').map((v) => Number(v.trim()));
  if (parts.length !== 4 || parts.some((v) => !Number.isInteger(v))) {
    throw new ArgumentError(`SIMDNET_GEMM_BLOCKING must be "auto" or four integers "mr,mc,kc,nc" (e.g. "4,120,256,1024"), got "${env}"`);
  }
  const [mr, mc, kc, nc] = parts;
  return check({ mr, mc, kc, nc }, 'SIMDNET_GEMM_BLOCKING');
}

interface Measured { blocking: GemmBlocking; ms: number; defaultMs: number }

/**
 * Sets rt's GEMM blocking to this machine's and returns it: forced, cached, or measured now
 * (about a second, once). The debug build is never measured: its assertions would decide.
 */
export function useGemmBlocking(rt: Runtime): GemmBlocking {
  const b = chooseGemmBlocking(rt);
  applyGemmBlocking(rt, b);
  return b;
}

function chooseGemmBlocking(rt: Runtime): GemmBlocking {
  const want = requested();
  if (want !== 'auto') return want;
  if (rt.variant === 'debug') return DEFAULT_GEMM_BLOCKING;
  const machine = machineKey(rt.variant);
  const known = cached<Measured>(machine, 'gemm', 'blocking');
  if (known) {
    try {
      return check(known.blocking, 'the tuning cache');
    } catch {
      // A hand-edited entry: measure again below (the file keeps the first entry, this process uses its own).
    }
  }
  const measured = measure(rt);
  const kept = remember<Measured>(machine, 'gemm', 'blocking', measured).blocking;
  try {
    return check(kept, 'the tuning cache');
  } catch {
    return measured.blocking;
  }
}

function applyGemmBlocking(rt: Runtime, b: GemmBlocking): void {
  if (!rt.k.gemm_set_blocking(b.mr, b.mc, b.kc, b.nc)) throw new ArgumentError(`the kernels refused the GEMM blocking ${describe(b)}`);
}

// Best of three of the summed time over SHAPES for every candidate; the default wins ties within 3%.
// Leaves rt at the last candidate: useGemmBlocking sets the winner.
function measure(rt: Runtime): Measured {
  const k = rt.k;
  const mark = rt.arena.mark();
  try {
    const bufs = SHAPES.map(([M, K, N]) => {
      const a = rt.arena.allocF32(M * K), b = rt.arena.allocF32(K * N), c = rt.arena.allocF32(M * N);
      rt.f32(a, M * K).fill(0.01);
      rt.f32(b, K * N).fill(0.01);
      return { M, K, N, a, b, c };
    });
    const time = (bl: GemmBlocking) => {
      applyGemmBlocking(rt, bl);
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        for (const s of bufs) k.sgemm(s.M, s.N, s.K, s.a, s.K, 1, s.b, s.N, 1, s.c, s.N, 0, rt.gemmWorkspace);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    time(DEFAULT_GEMM_BLOCKING); // warm-up
    const defaultMs = time(DEFAULT_GEMM_BLOCKING);
    let winner = { blocking: DEFAULT_GEMM_BLOCKING, ms: defaultMs };
    for (const c of CANDIDATES) {
      const ms = time(c);
      if (ms < winner.ms && ms < 0.97 * defaultMs) winner = { blocking: c, ms };
    }
    return { ...winner, defaultMs };
  } finally {
    rt.arena.freeSince(mark);
  }
}
