import { describe, test } from 'vitest';
import { cases } from '../helpers/goldens.js';
import { harness, fdCheck, type Harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';

interface BnResult { y: Float32Array; dx?: Float32Array; dgamma?: Float32Array; dbeta?: Float32Array; mm: Float32Array; mv: Float32Array; yInfer: Float32Array }

// The training step as the layer runs it: sums -> stats -> normalize -> moving update, and
// backward sums -> dx -> parameter gradients. `split` runs the sums over row shards and adds
// them up, as the parallel trainer combines workers.
function runBn(h: Harness, x: Float32Array, C: number, gamma: Float32Array, beta: Float32Array,
  mm0: Float32Array, mv0: Float32Array, dy: Float32Array | null, split = 1): BnResult {
  const k = h.rt.k, M = x.length / C, eps = 1e-3, momentum = 0.99;
  const mark = h.rt.arena.mark();
  const px = h.up(x), pg = h.up(gamma), pb = h.up(beta), pmm = h.up(mm0), pmv = h.up(mv0);
  const sum = h.rt.arena.alloc(8 * C), sq = h.rt.arena.alloc(8 * C), psum = h.rt.arena.alloc(8 * C), psq = h.rt.arena.alloc(8 * C);
  const mean = h.alloc(C), variance = h.alloc(C), invstd = h.alloc(C), py = h.alloc(x.length);
  const shards: [number, number][] = [];
  for (let s = 0; s < split; s++) shards.push([Math.floor((s * M) / split), Math.floor(((s + 1) * M) / split)]);
  const total = h.rt.f64(sum, C).fill(0), totalSq = h.rt.f64(sq, C).fill(0);
  for (const [a, b] of shards) {
    k.bn_forward_sums(px + a * C * 4, b - a, C, psum, psq);
    const ps = h.rt.f64(psum, C), pq = h.rt.f64(psq, C);
    for (let c = 0; c < C; c++) { total[c] += ps[c]; totalSq[c] += pq[c]; }
  }
  k.bn_forward_stats(sum, sq, M, eps, C, mean, variance, invstd);
  k.bn_forward_normalize(px, M, C, mean, invstd, pg, pb, py);
  k.bn_update_moving(mean, variance, pmm, pmv, C, momentum);
  const out: BnResult = { y: h.get(py, x.length), mm: h.get(pmm, C), mv: h.get(pmv, C), yInfer: new Float32Array() };
  const pyi = h.alloc(x.length);
  k.bn_inference_forward(px, M, C, pg, pb, h.up(mm0), h.up(mv0), eps, pyi, h.alloc(C));
  out.yInfer = h.get(pyi, x.length);
  if (dy) {
    const pdy = h.up(dy), pdx = h.alloc(x.length), coef = h.alloc(3 * C), dg = h.alloc(C), db = h.alloc(C);
    const tDy = h.rt.f64(sum, C).fill(0), tDyX = h.rt.f64(sq, C).fill(0);
    for (const [a, b] of shards) {
      k.bn_backward_sums(pdy + a * C * 4, px + a * C * 4, mean, invstd, b - a, C, psum, psq);
      const ps = h.rt.f64(psum, C), pq = h.rt.f64(psq, C);
      for (let c = 0; c < C; c++) { tDy[c] += ps[c]; tDyX[c] += pq[c]; }
    }
    for (const [a, b] of shards) {
      k.bn_backward_dx(pdy + a * C * 4, px + a * C * 4, mean, invstd, pg, sum, sq, M, b - a, C, coef, pdx + a * C * 4);
    }
    k.bn_param_grads(sum, sq, C, dg, db, 0);
    out.dx = h.get(pdx, x.length); out.dgamma = h.get(dg, C); out.dbeta = h.get(db, C);
  }
  h.rt.arena.freeSince(mark);
  return out;
}

const h = harness();

describe('batch norm against the PyTorch goldens', async () => {
  for (const c of await cases('batchnorm')) {
    for (const split of [1, 3]) {
      test(`${c.name}, sums over ${split} shard(s)`, () => {
        const x = c.get('x');
        const C = x.shape[x.shape.length - 1];
        const r = runBn(h, x.data, C, c.get('gamma').data, c.get('beta').data, c.get('moving_mean').data,
          c.get('moving_var').data, c.get('dy').data, split);
        expectClose(r.y, c.get('y_train').data, 1e-4, 'y_train');
        expectClose(r.dx!, c.get('dx').data, 1e-4, 'dx');
        expectClose(r.dgamma!, c.get('dgamma').data, 1e-4, 'dgamma');
        expectClose(r.dbeta!, c.get('dbeta').data, 1e-4, 'dbeta');
        expectClose(r.mm, c.get('moving_mean_after').data, 1e-5, 'moving_mean');
        expectClose(r.mv, c.get('moving_var_after').data, 1e-5, 'moving_var');
        expectClose(r.yInfer, c.get('y_infer').data, 1e-5, 'y_infer');
      });
    }
  }
});

describe('batch norm on awkward shapes', () => {
  test.each([[1, 3], [5, 7], [2, 9], [40, 4]])('gradients match finite differences (M=%i, C=%i)', (M, C) => {
    const x = randomArray(M * C, 51).map((v, i) => v * (1 + (i % C)) + 0.5 * (i % C));
    const gamma = randomArray(C, 52).map((v) => 1 + 0.3 * v), beta = randomArray(C, 53);
    const zeros = new Float32Array(C), ones = new Float32Array(C).fill(1);
    const dy = randomArray(M * C, 54);
    const r = runBn(h, x, C, gamma, beta, zeros, ones, dy);
    const y = (q: Float32Array, g = gamma, b = beta) => runBn(h, q, C, g, b, zeros, ones, null).y;
    if (M > 1) fdCheck('dx', (q) => y(q), x, dy, r.dx!, { h: 1e-2, tol: 3e-2, shape: [M, C] });
    // y is linear in gamma and in beta.
    fdCheck('dgamma', (q) => y(x, q), gamma, dy, r.dgamma!, { linear: true, shape: [C] });
    fdCheck('dbeta', (q) => y(x, gamma, q), beta, dy, r.dbeta!, { linear: true, shape: [C] });
  });
});
