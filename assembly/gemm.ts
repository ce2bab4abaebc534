// Single-precision GEMM: C[M,N] = A[M,K] · B[K,N] (+ C when `accumulate`).
//
// A and B are addressed through row and column strides (in elements), so one routine serves
// A·B, A·Bᵀ and Aᵀ·B: a transposed operand is the same memory with its strides swapped.
// C is row-major with leading dimension ldc.
//
// Structure (Goto / BLIS): B is packed KC x NC at a time into panels NR=8 columns wide, A is
// packed MC x KC at a time into panels MR rows tall, and a register-tiled microkernel multiplies
// one A panel by one B panel. The microkernels are generated (generate-microkernels.mjs writes
// gen/), one per tile, named as XNNPACK names them. A tile keeps MR*2 accumulators plus two B
// vectors and one broadcast A value live. Measured on Zen 4 with Node 20 (docs/gemm.md): 4x8
// runs at 77-81% of the relaxed-SIMD peak loop; V8's register allocator already spills in 5x8
// and 6x8, which run 30-40% slower.

import { madd } from "./simd";
import { microkernel } from "./gen/gemm-microkernels";

export const NR: i32 = 8;

// The blocking: KC x NC panels of B (a KC x NR panel stays in L1), MC x KC blocks of A (in L2),
// and the tile height MR. The defaults were the fastest measured on a Zen 4 (docs/gemm.md);
// src/kernels/gemm-blocking.ts measures the candidates on the machine it runs on and sets the
// winner with gemm_set_blocking. The workspace is sized for the largest blocking allowed.
const KC_MAX: i32 = 512;
const MC_MAX: i32 = 240;
const NC_MAX: i32 = 1024;
let MR: i32 = 4; // gemm_4x8 until gemm_set_blocking says otherwise
let KC: i32 = 256;
let MC: i32 = 120;
let NC: i32 = 1024;
// Up to this many rows of A, a row-major B whose rows are at most B_IN_PLACE_STRIDE floats apart
// is read in place instead of packed (gemmBlocked). Measured on a Zen 4 (docs/gemm.md): 16 rows
// of A times a 512x512 B ran at 35 GFLOP/s packed, 46 in place; 32 rows 42 -> 46; 64 rows no
// better. Rows 4 KiB apart or more (N >= 1024) all fall in one L1 set: in place ran at 28.
let B_IN_PLACE_ROWS: i32 = 48;
const B_IN_PLACE_STRIDE: i32 = 512;

// Sets B_IN_PLACE_ROWS (0: always pack) and returns the value it replaces, for bench/kernels.ts
// and the tests to put back.
export function gemm_set_b_in_place_rows(rows: i32): i32 {
  const was = B_IN_PLACE_ROWS;
  B_IN_PLACE_ROWS = rows;
  return was;
}

const PACKED_B_BYTES: usize = <usize>(KC_MAX * NC_MAX * 4);
const PACKED_A_BYTES: usize = <usize>(MC_MAX * KC_MAX * 4);
const TILE_BYTES: usize = <usize>(8 * NR * 4);

// Bytes of scratch memory that every GEMM call needs at `ws`.
export function gemm_workspace_bytes(): i32 {
  return <i32>(PACKED_B_BYTES + PACKED_A_BYTES + TILE_BYTES);
}

// Sets the blocking of sgemm in this instance; returns false (changing nothing) unless mr is a
// generated tile (4, 5 or 6), mc a multiple of mr up to 240, kc 16..512 and nc a multiple of 8 up to 1024.
export function gemm_set_blocking(mr: i32, mc: i32, kc: i32, nc: i32): bool {
  if (mr < 4 || mr > 6 || mc < mr || mc > MC_MAX || mc % mr != 0 || kc < 16 || kc > KC_MAX || nc < NR || nc > NC_MAX || nc % NR != 0) return false;
  MR = mr; MC = mc; KC = kc; NC = nc;
  return true;
}

// Packs B[kc, nc] (strides rsb, csb) into panels of NR columns: panel j holds, for each p, the
// NR values B[p, j*NR .. j*NR+NR), zero beyond nc.
function packB(kc: i32, nc: i32, b: usize, rsb: i32, csb: i32, out: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const dst = out + ((<usize>jr * kc) << 2);
    const src = b + ((<usize>jr * csb) << 2);
    if (csb == 1 && nr == NR) {
      const step = <usize>rsb << 2;
      let s = src;
      let d = dst;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += step;
        d += 32;
      }
    } else if (rsb == 1 && nr == NR) {
      packBTransposed8(kc, src, <usize>csb << 2, dst);
    } else {
      if (nr < NR) memory.fill(dst, 0, (<usize>kc * NR) << 2);
      // Walk each column along p, which is the contiguous direction when B is transposed.
      for (let jj = 0; jj < nr; jj++) {
        let s = src + ((<usize>jj * csb) << 2);
        let d = dst + (<usize>jj << 2);
        const step = <usize>rsb << 2;
        for (let p = 0; p < kc; p++) {
          store<f32>(d, load<f32>(s));
          s += step;
          d += 32;
        }
      }
    }
  }
}

// Eight columns of a transposed B (each contiguous along p, colBytes apart) -> one panel of NR = 8,
// transposing 4x4 blocks in registers: the scalar column walk cost the backward-to-input GEMMs
// (B = wᵀ) about a third of their time at small M.
function packBTransposed8(kc: i32, src: usize, colBytes: usize, dst: usize): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const s = src + (<usize>p << 2), d = dst + (<usize>p << 5);
    transpose4(s, colBytes, d, 32);
    transpose4(s + 4 * colBytes, colBytes, d + 16, 32);
  }
  for (; p < kc; p++) {
    const s = src + (<usize>p << 2), d = dst + (<usize>p << 5);
    for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + <usize>j * colBytes));
  }
}

// The 4x4 block whose rows are four vectors srcStep bytes apart from s, transposed: its columns
// stored as four vectors dstStep bytes apart from d.
@inline function transpose4(s: usize, srcStep: usize, d: usize, dstStep: usize): void {
  const x0 = v128.load(s), x1 = v128.load(s + srcStep), x2 = v128.load(s + 2 * srcStep), x3 = v128.load(s + 3 * srcStep);
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d + dstStep, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * dstStep, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * dstStep, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Packs A[mc, kc] (strides rsa, csa) into panels of mr rows: panel i holds, for each p, the mr
// values A[i*mr .. i*mr+mr), p], zero beyond mc.
function packA(mr: i32, mc: i32, kc: i32, a: usize, rsa: i32, csa: i32, out: usize): void {
  for (let ir = 0; ir < mc; ir += mr) {
    const m = min(mr, mc - ir);
    const dst = out + ((<usize>ir * kc) << 2);
    const src = a + ((<usize>ir * rsa) << 2);
    if (m == 4 && mr == 4 && csa == 1) {
      packA4Rows(kc, src, <usize>rsa << 2, dst);
      continue;
    }
    if (m < mr) memory.fill(dst, 0, (<usize>kc * mr) << 2);
    if (rsa == 1) {
      // A is transposed in memory: the mr values of one p are contiguous.
      const step = <usize>csa << 2;
      let s = src;
      let d = dst;
      if (m == 4 && mr == 4) {
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s));
          s += step;
          d += 16;
        }
        continue;
      }
      for (let p = 0; p < kc; p++) {
        for (let ii = 0; ii < m; ii++) store<f32>(d + (<usize>ii << 2), load<f32>(s + (<usize>ii << 2)));
        s += step;
        d += <usize>mr << 2;
      }
    } else {
      const step = <usize>csa << 2;
      const dstep = <usize>mr << 2;
      for (let ii = 0; ii < m; ii++) {
        let s = src + ((<usize>ii * rsa) << 2);
        let d = dst + (<usize>ii << 2);
        for (let p = 0; p < kc; p++) {
          store<f32>(d, load<f32>(s));
          s += step;
          d += dstep;
        }
      }
    }
  }
}

// Four row-major rows (rowBytes apart) -> one 4-row panel, transposing 4x4 blocks in registers.
function packA4Rows(kc: i32, src: usize, rowBytes: usize, dst: usize): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const o = <usize>p << 2;
    transpose4(src + o, rowBytes, dst + (o << 2), 16);
  }
  const r1 = src + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
  for (; p < kc; p++) {
    const o = <usize>p << 2;
    const d = dst + (o << 2);
    store<f32>(d, load<f32>(src + o));
    store<f32>(d, load<f32>(r1 + o), 4);
    store<f32>(d, load<f32>(r2 + o), 8);
    store<f32>(d, load<f32>(r3 + o), 12);
  }
}

// C[m, n] (+)= tile[m, n] for the partial tiles at the right and bottom edges.
function mergeTile(m: i32, n: i32, tile: usize, c: usize, ldc: i32, accumulate: bool): void {
  for (let i = 0; i < m; i++) {
    const t = tile + ((<usize>i * NR) << 2);
    const r = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(t + o);
      store<f32>(r + o, accumulate ? load<f32>(r + o) + v : v);
    }
  }
}

export function gemmBlocked(
  mr: i32, M: i32, N: i32, K: i32,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  c: usize, ldc: i32, accumulate: bool, ws: usize,
): void {
  assert(M >= 0 && N >= 0 && K >= 0 && ws != 0);
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) {
      for (let i = 0; i < M; i++) memory.fill(c + ((<usize>i * ldc) << 2), 0, <usize>N << 2);
    }
    return;
  }
  const pb = ws;
  const pa = ws + PACKED_B_BYTES;
  const tile = pa + PACKED_A_BYTES;
  // The pinned tiles (gemm_4x8 ...) may run with another tile's MC: round it down to theirs.
  const mcMax = max(mr, (MC / mr) * mr);
  // A row-major B feeds few rows of A straight from memory: packing would copy all of B for
  // only M/mr microkernel calls per panel. Only a partial last panel is packed (zero-padded).
  const inPlace = csb == 1 && M <= B_IN_PLACE_ROWS && rsb <= B_IN_PLACE_STRIDE;
  const packedStep: usize = <usize>NR << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const full = inPlace ? nc - nc % NR : 0; // columns read in place
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const acc = accumulate || pc > 0;
      const bBlock = b + ((<usize>pc * rsb + <usize>jc * csb) << 2);
      packB(kc, nc - full, bBlock + (<usize>full << 2), rsb, csb, pb);
      for (let ic = 0; ic < M; ic += mcMax) {
        const mc = min(mcMax, M - ic);
        packA(mr, mc, kc, a + ((<usize>ic * rsa + <usize>pc * csa) << 2), rsa, csa, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = jr < full ? bBlock + (<usize>jr << 2) : pb + ((<usize>(jr - full) * kc) << 2);
          const bStep = jr < full ? <usize>rsb << 2 : packedStep;
          for (let ir = 0; ir < mc; ir += mr) {
            const m = min(mr, mc - ir);
            const ap = pa + ((<usize>ir * kc) << 2);
            const cp = c + ((<usize>(ic + ir) * ldc + <usize>(jc + jr)) << 2);
            if (m == mr && nr == NR) {
              microkernel(mr, kc, ap, bp, bStep, cp, ldc, acc);
            } else {
              microkernel(mr, kc, ap, bp, bStep, tile, NR, false);
              mergeTile(m, nr, tile, cp, ldc, acc);
            }
          }
        }
      }
    }
  }
}

// C[M,N] (+)= A[M,K] · B[K,N] with the blocking in force.
export function sgemm(
  M: i32, N: i32, K: i32,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  c: usize, ldc: i32, accumulate: bool, ws: usize,
): void {
  gemmBlocked(MR, M, N, K, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, ws);
}

// The throughput ceiling: `iters` rounds of 12 independent 4-lane multiply-adds on registers.
// Returns a value computed from the accumulators so that nothing is optimized away.
// FLOPs = iters * 12 * 4 * 2.
export function simd_peak(iters: i32, seed: f32): f32 {
  const x = f32x4.splat(seed);
  const y = f32x4.splat(0.999);
  let a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x;
  let a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, y, x); a1 = madd(a1, y, x); a2 = madd(a2, y, x);
    a3 = madd(a3, y, x); a4 = madd(a4, y, x); a5 = madd(a5, y, x);
    a6 = madd(a6, y, x); a7 = madd(a7, y, x); a8 = madd(a8, y, x);
    a9 = madd(a9, y, x); a10 = madd(a10, y, x); a11 = madd(a11, y, x);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)),
    f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)),
      f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
