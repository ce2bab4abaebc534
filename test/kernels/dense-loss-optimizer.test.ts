import { describe, expect, test } from 'vitest';
import { cases } from '../helpers/goldens.js';
import { harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';

const h = harness();
const k = h.rt.k;

describe('dense against the PyTorch goldens', async () => {
  for (const c of await cases('dense')) {
    test(c.name, () => {
      const x = c.get('x'), w = c.get('w');
      const [N, I] = x.shape, O = w.shape[1];
      const px = h.up(x.data), pw = h.up(w.data), pb = h.up(c.get('b').data), py = h.alloc(N * O);
      k.dense_forward(px, pw, pb, py, N, I, O, h.rt.gemmWorkspace);
      expectClose(h.get(py, N * O), c.get('y').data, 1e-4, 'y');
      const pdx = h.alloc(N * I), pdw = h.alloc(I * O), pdb = h.alloc(O);
      k.dense_backward(px, pw, h.up(c.get('dy').data), pdx, pdw, pdb, N, I, O, 0, h.rt.gemmWorkspace);
      expectClose(h.get(pdx, N * I), c.get('dx').data, 1e-4, 'dx');
      expectClose(h.get(pdw, I * O), c.get('dw').data, 1e-4, 'dw');
      expectClose(h.get(pdb, O), c.get('db').data, 1e-4, 'db');
    });
  }
});

describe('softmax cross-entropy against the PyTorch goldens', async () => {
  for (const c of await cases('softmax_xent')) {
    test(c.name, () => {
      const logits = c.get('logits');
      const [N, K] = logits.shape;
      for (const split of [1, 2]) {
        // Rows split in two calls with 1/N of the whole batch: how workers share a batch.
        const pl = h.up(logits.data), pt = h.up(c.get('labels').data), pp = h.alloc(N * K), pd = h.alloc(N * K);
        let loss = 0;
        const half = split === 1 ? N : Math.floor(N / 2);
        loss += k.softmax_xent(pl, pt, half, K, 1 / N, pp, pd);
        if (half < N) loss += k.softmax_xent(pl + half * K * 4, pt + half * K * 4, N - half, K, 1 / N, pp + half * K * 4, pd + half * K * 4);
        expect(Math.abs(loss - c.get('loss').data[0])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(c.get('loss').data[0])));
        expectClose(h.get(pd, N * K), c.get('dlogits').data, 1e-5, 'dlogits');
        const probs = h.get(pp, N * K);
        const pf = h.alloc(N * K);
        k.softmax_forward(pl, pf, N, K);
        expectClose(h.get(pf, N * K), probs, 1e-6, 'softmax_forward');
      }
    });
  }

  test('huge logits stay finite', () => {
    const pl = h.up(new Float32Array([1e4, -1e4, 0, 3e4, 3e4, 3e4])), pt = h.up(new Float32Array([0, 1, 0, 1, 0, 0]));
    const pp = h.alloc(6), pd = h.alloc(6);
    const loss = k.softmax_xent(pl, pt, 2, 3, 0.5, pp, pd);
    expect(loss).toBeCloseTo((2e4 + Math.log(3)) / 2, 3);
    expect(h.get(pd, 6).every(Number.isFinite)).toBe(true);
  });
});

describe('optimizers', async () => {
  for (const c of await cases('adam')) {
    test(`Adam, Keras form: ${c.name}`, () => {
      const { lr, beta1, beta2, epsilon, steps } = c.attrs as Record<string, number>;
      const p0 = c.get('p0').data, grads = c.get('grads').data, n = p0.length;
      const pp = h.up(p0), pm = h.up(new Float32Array(n)), pv = h.up(new Float32Array(n)), pg = h.alloc(n);
      for (let t = 1; t <= steps; t++) {
        h.rt.f32(pg, n).set(grads.subarray((t - 1) * n, t * n));
        const lrT = lr * Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t);
        k.adam_update(pp, pg, pm, pv, pp, pm, pv, n, lrT, beta1, 1 - beta1, beta2, 1 - beta2, epsilon, 1);
      }
      expectClose(h.get(pp, n), c.get('p').data, 1e-5, 'p');
      expectClose(h.get(pm, n), c.get('m').data, 1e-5, 'm');
      expectClose(h.get(pv, n), c.get('v').data, 1e-5, 'v');
    });
  }

  test('AdamW\'s decay in the Adam kernel, written to separate outputs: the inputs stay, and the outputs equal the in-place update bit for bit', () => {
    const n = 23, lrT = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7, keep = 0.995;
    const p = randomArray(n, 81), g = randomArray(n, 82), m = randomArray(n, 83), v = randomArray(n, 84).map(Math.abs);
    const pp = h.up(p), pg = h.up(g), pm = h.up(m), pv = h.up(v);
    const qp = h.alloc(n), qm = h.alloc(n), qv = h.alloc(n);
    k.adam_update(pp, pg, pm, pv, qp, qm, qv, n, lrT, b1, 1 - b1, b2, 1 - b2, eps, keep);
    expect([h.get(pp, n), h.get(pm, n), h.get(pv, n)]).toEqual([p, m, v]);
    const want = p.map((x, i) => {
      const mi = b1 * m[i] + (1 - b1) * g[i], vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
      return x * keep - (lrT * mi) / (Math.sqrt(vi) + eps);
    });
    expectClose(h.get(qp, n), Float64Array.from(want), 1e-6, 'p');
    k.adam_update(pp, pg, pm, pv, pp, pm, pv, n, lrT, b1, 1 - b1, b2, 1 - b2, eps, keep);
    expect([h.get(pp, n), h.get(pm, n), h.get(pv, n)]).toEqual([h.get(qp, n), h.get(qm, n), h.get(qv, n)]);

    const vel = randomArray(n, 85), pvel = h.up(vel), qvel = h.alloc(n);
    k.sgd_update(pp, pg, pvel, qp, qvel, n, 0.1, 0.9, true);
    const pBefore = h.get(pp, n);
    k.sgd_update(pp, pg, pvel, pp, pvel, n, 0.1, 0.9, true);
    expect([h.get(pp, n), h.get(pvel, n)]).toEqual([h.get(qp, n), h.get(qvel, n)]);
    expect(h.get(pp, n)).not.toEqual(pBefore);
  });

  test('SGD with momentum, plain and Nesterov, follows the Keras update', () => {
    const n = 11, lr = 0.1, mom = 0.9;
    for (const nesterov of [false, true]) {
      const p = randomArray(n, 61), g1 = randomArray(n, 62), g2 = randomArray(n, 63);
      const pp = h.up(p), pv = h.up(new Float32Array(n));
      const want = Float64Array.from(p), vel = new Float64Array(n);
      for (const g of [g1, g2]) {
        k.sgd_update(pp, h.up(g), pv, pp, pv, n, lr, mom, nesterov);
        for (let i = 0; i < n; i++) {
          vel[i] = mom * vel[i] - lr * g[i];
          want[i] += nesterov ? mom * vel[i] - lr * g[i] : vel[i];
        }
      }
      expectClose(h.get(pp, n), want, 1e-6, `sgd nesterov=${nesterov}`);
    }
  });
});

describe('element-wise kernels', () => {
  test('relu, add, column sums and dropout on a length that is not a multiple of 4', () => {
    const n = 13, a = randomArray(n, 71), b = randomArray(n, 72);
    const pa = h.up(a), pb = h.up(b), py = h.alloc(n);
    k.relu_forward(pa, py, n);
    expect(Array.from(h.get(py, n))).toEqual(Array.from(a, (v) => Math.max(v, 0)));
    k.relu_backward(py, pb, py, n);
    expect(Array.from(h.get(py, n))).toEqual(Array.from(a, (v, i) => (v > 0 ? b[i] : 0)));
    k.add(pa, pb, py, n);
    expectClose(h.get(py, n), a.map((v, i) => v + b[i]), 1e-7, 'add');
    const M = 5, C = 7, x = randomArray(M * C, 73), pc = h.alloc(C);
    k.col_sum(h.up(x), M, C, pc, 0);
    const want = new Float32Array(C);
    for (let i = 0; i < M * C; i++) want[i % C] += x[i];
    expectClose(h.get(pc, C), want, 1e-6, 'col_sum');
  });

  test('dropout: a mask of zeros and 1 / (1 - rate) that depends on (seed, index) only, and its backward', () => {
    const n = 4003, rate = 0.3, x = randomArray(n, 74), px = h.up(x), py = h.alloc(n), pm = h.alloc(n);
    k.dropout_forward(px, py, pm, n, rate, 1234, 0);
    const y = h.get(py, n), m = h.get(pm, n);
    const keep = Math.fround(1 / (1 - rate));
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      expect(m[i] === 0 || m[i] === keep).toBe(true);
      expect(y[i]).toBe(Math.fround(x[i] * m[i]));
      if (m[i] === 0) dropped++;
    }
    expect(Math.abs(dropped / n - rate)).toBeLessThan(0.03);
    // The second half of the batch drawn on its own gives the same mask.
    const half = 2000, pm2 = h.alloc(n - half);
    k.dropout_forward(px + 4 * half, h.alloc(n - half), pm2, n - half, rate, 1234, half);
    expect(Array.from(h.get(pm2, n - half))).toEqual(Array.from(m.subarray(half)));
    // Another seed, another mask.
    k.dropout_forward(px, py, pm2, n - half, rate, 1235, 0);
    expect(Array.from(h.get(pm2, n - half))).not.toEqual(Array.from(m.subarray(0, n - half)));
    const dy = randomArray(n, 75), pdx = h.alloc(n);
    k.dropout_backward(h.up(dy), pm, pdx, n);
    expect(Array.from(h.get(pdx, n))).toEqual(Array.from(dy, (v, i) => Math.fround(v * m[i])));
  });
});
