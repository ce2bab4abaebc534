import { describe, expect, test } from 'vitest';
import { harness } from '../helpers/harness.js';
import { randomArray, expectClose } from '../helpers/assert.js';
import type { KernelExports, KernelVariant } from '../../src/kernels/index.js';
import { DEFAULT_GEMM_BLOCKING } from '../../src/kernels/gemm-blocking.js';

// C = op(A)·op(B) in float64, where op transposes when asked.
function reference(M: number, N: number, K: number, a: Float32Array, ta: boolean, b: Float32Array, tb: boolean): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let p = 0; p < K; p++) s += a[ta ? p * M + i : i * K + p] * b[tb ? j * K + p : p * N + j];
    c[i * N + j] = s;
  }
  return c;
}

const shapes: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 8, 16], [13, 17, 19], [121, 9, 300], [5, 259, 33], [130, 1030, 3], [64, 64, 513],
  // Few rows of A: a row-major B is read in place (its partial last panel packed), over three KC blocks.
  [20, 100, 600], [48, 512, 40],
];
const kernels: (keyof KernelExports)[] = ['sgemm', 'gemm_4x8', 'gemm_5x8', 'gemm_6x8'];

describe.each(['debug', 'simd', 'relaxed-simd'] as KernelVariant[])('GEMM (%s)', (variant) => {
  const h = harness(variant);
  for (const name of kernels) {
    test.each(shapes)(`${name} %i x %i x %i, all transposes, overwrite and accumulate`, (M, N, K) => {
      const gemm = h.rt.k[name] as KernelExports['sgemm'];
      const a = randomArray(M * K, M + 7 * K), b = randomArray(K * N, N + 3 * K);
      const pa = h.up(a), pb = h.up(b), pc = h.alloc(M * N);
      for (const ta of [false, true]) for (const tb of [false, true]) {
        const want = reference(M, N, K, a, ta, b, tb);
        // Strides: a row-major [M,K] is (K, 1); stored transposed as [K,M] it is (1, M).
        gemm(M, N, K, pa, ta ? 1 : K, ta ? M : 1, pb, tb ? 1 : N, tb ? K : 1, pc, N, 0, h.rt.gemmWorkspace);
        expectClose(h.get(pc, M * N), want, 1e-5 * Math.sqrt(K), `${name} ta=${ta} tb=${tb}`);
        gemm(M, N, K, pa, ta ? 1 : K, ta ? M : 1, pb, tb ? 1 : N, tb ? K : 1, pc, N, 1, h.rt.gemmWorkspace);
        expectClose(h.get(pc, M * N), want.map((v) => 2 * v), 1e-5 * Math.sqrt(K), `${name} accumulate`);
      }
    });
  }

  test('B read in place gives the packed result bit for bit, across KC and NC blocks and with a partial last panel', () => {
    const M = 9, N = 45, K = 40;
    const a = randomArray(M * K, 5), b = randomArray(K * N, 6);
    const pa = h.up(a), pb = h.up(b), packed = h.alloc(M * N), inPlace = h.alloc(M * N);
    const k = h.rt.k, { mr, mc, kc, nc } = DEFAULT_GEMM_BLOCKING;
    const defaultRows = k.gemm_set_b_in_place_rows(0);
    expect(defaultRows).toBeGreaterThanOrEqual(M);
    try {
      expect(k.gemm_set_blocking(4, 8, 16, 16)).toBeTruthy(); // 3 KC blocks, 3 NC blocks
      k.sgemm(M, N, K, pa, K, 1, pb, N, 1, packed, N, 0, h.rt.gemmWorkspace);
      k.gemm_set_b_in_place_rows(defaultRows);
      k.sgemm(M, N, K, pa, K, 1, pb, N, 1, inPlace, N, 0, h.rt.gemmWorkspace);
    } finally {
      k.gemm_set_blocking(mr, mc, kc, nc);
      k.gemm_set_b_in_place_rows(defaultRows);
    }
    expectClose(h.get(inPlace, M * N), reference(M, N, K, a, false, b, false), 1e-5 * Math.sqrt(K), 'in place');
    expect(h.get(inPlace, M * N)).toEqual(h.get(packed, M * N));
  });

  test('K = 0 clears C, or leaves it when accumulating', () => {
    const pc = h.up(new Float32Array([1, 2, 3, 4]));
    h.rt.k.sgemm(2, 2, 0, 0, 0, 1, 0, 2, 1, pc, 2, 1, h.rt.gemmWorkspace);
    expect(Array.from(h.get(pc, 4))).toEqual([1, 2, 3, 4]);
    h.rt.k.sgemm(2, 2, 0, 0, 0, 1, 0, 2, 1, pc, 2, 0, h.rt.gemmWorkspace);
    expect(Array.from(h.get(pc, 4))).toEqual([0, 0, 0, 0]);
  });

  test('a C with a leading dimension wider than N is written only in its first N columns', () => {
    const M = 9, N = 10, K = 11, ldc = 16;
    const a = randomArray(M * K, 1), b = randomArray(K * N, 2);
    const pc = h.up(new Float32Array(M * ldc).fill(7));
    h.rt.k.sgemm(M, N, K, h.up(a), K, 1, h.up(b), N, 1, pc, ldc, 0, h.rt.gemmWorkspace);
    const c = h.get(pc, M * ldc), want = reference(M, N, K, a, false, b, false);
    for (let i = 0; i < M; i++) for (let j = 0; j < ldc; j++) {
      if (j < N) expect(Math.abs(c[i * ldc + j] - want[i * N + j])).toBeLessThan(1e-4);
      else expect(c[i * ldc + j]).toBe(7);
    }
  });
});

describe('the debug build checks its arguments', () => {
  const h = harness('debug');
  test('a GEMM without a workspace traps', () => {
    const a = h.alloc(16);
    expect(() => h.rt.k.sgemm(4, 4, 4, a, 4, 1, a, 4, 1, a, 4, 0, 0)).toThrow(/unreachable/);
  });
  test('a convolution that needs im2col but gets no scratch (cols = 0) traps', () => {
    const x = h.alloc(2 * 5 * 5 * 3), w = h.alloc(3 * 3 * 3 * 4), y = h.alloc(2 * 5 * 5 * 4);
    expect(() => h.rt.k.conv2d_forward(x, w, 0, y, 2, 5, 5, 3, 3, 3, 4, 1, 1, 1, 5, 5, 0, h.rt.gemmWorkspace)).toThrow(/unreachable/);
  });
});
