// Layer normalization's kernels against a direct float64 computation: the forward pass (with and
// without gamma and beta, rows long enough for the blocked float64 sums and with scalar tails),
// and the backward pass's three outputs from the textbook formulas.
import { describe, expect, test } from 'vitest';
import { harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';

const h = harness();
const eps = 1e-3;

function direct(x: Float32Array, M: number, N: number, gamma?: Float32Array, beta?: Float32Array) {
  const y = new Float64Array(M * N), xhat = new Float64Array(M * N), invstd = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    const row = Array.from(x.subarray(m * N, (m + 1) * N));
    const mu = row.reduce((a, b) => a + b, 0) / N;
    const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / N;
    invstd[m] = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < N; i++) {
      xhat[m * N + i] = (row[i] - mu) * invstd[m];
      y[m * N + i] = xhat[m * N + i] * (gamma ? gamma[i] : 1) + (beta ? beta[i] : 0);
    }
  }
  return { y, xhat, invstd };
}

describe('layernorm kernels', () => {
  for (const [M, N] of [[3, 12288], [5, 7], [2, 1]] as const) {
    test(`forward and backward, ${M} rows of ${N}`, () => {
      // An offset far from zero: a one-pass variance in float32 would lose it.
      const x = randomArray(M * N, 1).map((v) => 40 + 3 * v);
      const gamma = randomArray(N, 2), beta = randomArray(N, 3), dy = randomArray(M * N, 4);
      const ref = direct(x, M, N, gamma, beta);
      const px = h.up(x), pg = h.up(gamma), pb = h.up(beta), py = h.alloc(M * N), mean = h.alloc(M), invstd = h.alloc(M);
      h.rt.k.layernorm_forward(px, M, N, eps, pg, pb, py, mean, invstd);
      expectClose(h.get(py, M * N), ref.y, 1e-4, 'y with gamma and beta');
      const bare = h.alloc(M * N);
      h.rt.k.layernorm_forward(px, M, N, eps, 0, 0, bare, mean, invstd);
      expectClose(h.get(bare, M * N), ref.xhat, 1e-4, 'y without parameters');

      const pdy = h.up(dy), pdx = h.alloc(M * N), dg = h.alloc(N), db = h.alloc(N);
      h.rt.k.layernorm_backward(pdy, px, mean, invstd, pg, M, N, pdx, dg, db);
      const dx = new Float64Array(M * N), dgamma = new Float64Array(N), dbeta = new Float64Array(N);
      for (let m = 0; m < M; m++) {
        let sg = 0, sgx = 0;
        for (let i = 0; i < N; i++) {
          const g = dy[m * N + i] * gamma[i];
          sg += g; sgx += g * ref.xhat[m * N + i];
          dgamma[i] += dy[m * N + i] * ref.xhat[m * N + i];
          dbeta[i] += dy[m * N + i];
        }
        for (let i = 0; i < N; i++) dx[m * N + i] = ref.invstd[m] * (dy[m * N + i] * gamma[i] - sg / N - ref.xhat[m * N + i] * sgx / N);
      }
      const dxMax = dx.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
      expectClose(h.get(pdx, M * N), dx, 1e-4 * Math.max(1, dxMax), 'dx');
      expectClose(h.get(dg, N), dgamma, 1e-4, 'dgamma');
      expectClose(h.get(db, N), dbeta, 1e-4, 'dbeta');
      if (N === 1) expect(Array.from(h.get(pdx, M))).toEqual([0, 0]); // one value: always normalized to 0
    });
  }
});
