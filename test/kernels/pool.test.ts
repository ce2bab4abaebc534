import { describe, expect, test } from 'vitest';
import { cases } from '../helpers/goldens.js';
import { harness, fdCheck, type Harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';
import { window2d, type Padding } from '../../src/kernels/padding.js';

interface Pool { N: number; H: number; W: number; C: number; K: number; stride: number; padding: Padding }

function runPool(h: Harness, kind: 'max' | 'avg', s: Pool, x: Float32Array, dy: Float32Array | null, relu = false) {
  const { N, H, W, C, K, stride } = s;
  const { OH, OW, padT, padL } = window2d(H, W, K, K, stride, s.padding);
  const mark = h.rt.arena.mark();
  const px = h.up(x), ny = N * OH * OW * C, py = h.alloc(ny), arg = h.alloc(ny);
  if (kind === 'max') h.rt.k.maxpool_forward(px, py, arg, N, H, W, C, K, K, stride, padT, padL, OH, OW, relu);
  else h.rt.k.avgpool_forward(px, py, N, H, W, C, K, K, stride, padT, padL, OH, OW);
  const y = h.get(py, ny);
  let dx: Float32Array | undefined;
  if (dy) {
    const pdy = h.up(dy), pdx = h.alloc(x.length);
    if (kind === 'max') h.rt.k.maxpool_backward(pdy, arg, pdx, ny, x.length);
    else h.rt.k.avgpool_backward(pdy, pdx, N, H, W, C, K, K, stride, padT, padL, OH, OW);
    dx = h.get(pdx, x.length);
  }
  h.rt.arena.freeSince(mark);
  return { y, dx };
}

const h = harness();

for (const kind of ['max', 'avg'] as const) {
  describe(`${kind} pooling against the PyTorch goldens`, async () => {
    for (const c of await cases(`${kind}pool`)) {
      test(c.name, () => {
        const x = c.get('x');
        const [N, H, W, C] = x.shape;
        const s: Pool = { N, H, W, C, K: c.attrs.pool as number, stride: c.attrs.stride as number, padding: c.attrs.padding as Padding };
        const r = runPool(h, kind, s, x.data, c.get('dy').data);
        expectClose(r.y, c.get('y').data, 1e-6, `${c.name} y`);
        expectClose(r.dx!, c.get('dx').data, 1e-6, `${c.name} dx`);
      });
    }
  });
}

describe('pooling on awkward shapes', () => {
  const shapes: Pool[] = [
    { N: 1, H: 5, W: 3, C: 3, K: 2, stride: 2, padding: 'same' },
    { N: 2, H: 7, W: 6, C: 5, K: 3, stride: 1, padding: 'same' },
    { N: 1, H: 9, W: 9, C: 6, K: 8, stride: 8, padding: 'same' }, // windows mostly in the padding
    { N: 3, H: 4, W: 4, C: 1, K: 3, stride: 2, padding: 'valid' },
  ];
  test.each(shapes)('max and average gradients match finite differences: %o', (s) => {
    const x = randomArray(s.N * s.H * s.W * s.C, 21);
    for (const kind of ['max', 'avg'] as const) {
      const y = runPool(h, kind, s, x, null).y;
      const dy = randomArray(y.length, 22);
      const { dx } = runPool(h, kind, s, x, dy);
      // Average pooling is linear in x; max pooling is piecewise linear (a small h stays on one piece).
      fdCheck(`${kind} dx`, (q) => runPool(h, kind, s, q, null).y, x, dy, dx!, kind === 'avg' ? { linear: true, shape: [s.N, s.H, s.W, s.C] } : { h: 1e-3, shape: [s.N, s.H, s.W, s.C] });
    }
  });

  // The kernel runs eight channels at a time where it can: channel counts of 8, 12 (8 + 4) and
  // 13 (8 + 4 + 1), values from a few levels so that windows hold ties: the first of equal
  // maxima (row by row) takes the gradient, as TensorFlow's does.
  test.each([8, 12, 13])('max pooling with ties over %i channels: the first maximum, as a direct loop finds it', (C) => {
    const s: Pool = { N: 2, H: 9, W: 10, C, K: 4, stride: 3, padding: 'same' };
    const { OH, OW, padT, padL } = window2d(s.H, s.W, s.K, s.K, s.stride, s.padding);
    const x = randomArray(s.N * s.H * s.W * C, 23).map((v) => Math.round(v * 3));
    const dy = randomArray(s.N * OH * OW * C, 24);
    const y = new Float32Array(dy.length), dx = new Float32Array(x.length);
    let o = 0;
    for (let n = 0; n < s.N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++, o++) {
      let best = -Infinity, at = -1;
      for (let hh = Math.max(0, oh * s.stride - padT); hh < Math.min(s.H, oh * s.stride - padT + s.K); hh++) {
        for (let ww = Math.max(0, ow * s.stride - padL); ww < Math.min(s.W, ow * s.stride - padL + s.K); ww++) {
          const i = ((n * s.H + hh) * s.W + ww) * C + c;
          if (at < 0 || x[i] > best) { best = x[i]; at = i; }
        }
      }
      y[o] = best;
      dx[at] += dy[o];
    }
    const r = runPool(h, 'max', s, x, dy);
    expect(Array.from(r.y)).toEqual(Array.from(y));
    expectClose(r.dx!, dx, 1e-6, 'dx');
  });

  // A ReLU folded into the pool (Graph.foldedRelus): the same values and gradient as ReLU then
  // max pooling, ties and windows with no positive cell included (which pass no gradient).
  test.each([8, 12, 13])('max pooling with the ReLU before it folded in, over %i channels: as ReLU then pooling', (C) => {
    const s: Pool = { N: 2, H: 9, W: 10, C, K: 3, stride: 2, padding: 'same' }; // overlapping windows
    const x = randomArray(s.N * s.H * s.W * C, 25).map((v) => Math.round(v * 3) - 1);
    const relu = (a: Float32Array) => a.map((v) => (v < 0 ? 0 : v));
    const unsign = (a: Float32Array) => Array.from(a, (v) => (v === 0 ? 0 : v));
    const plain = runPool(h, 'max', s, relu(x), null);
    const dy = randomArray(plain.y.length, 26);
    const dRelu = runPool(h, 'max', s, relu(x), dy).dx!.map((g, i) => (x[i] > 0 ? g : 0));
    const folded = runPool(h, 'max', s, x, dy, true);
    expect(unsign(folded.y)).toEqual(unsign(plain.y));
    expect(unsign(folded.dx!)).toEqual(unsign(dRelu));
    expect(plain.y.some((v) => v === 0)).toBe(true); // some windows had no positive cell
  });

  test('max pooling over a window of -Infinity still picks a real cell', () => {
    const s: Pool = { N: 1, H: 2, W: 2, C: 5, K: 2, stride: 2, padding: 'valid' };
    const x = new Float32Array(20).fill(-Infinity);
    const { y, dx } = runPool(h, 'max', s, x, new Float32Array(5).fill(1));
    expect(Array.from(y)).toEqual(new Array(5).fill(-Infinity));
    expect(dx!.reduce((a, b) => a + b, 0)).toBe(5);
  });
});

describe('global pooling and zero padding', () => {
  test('global average and max pooling: values and finite-difference gradients', () => {
    const N = 2, HW = 7, C = 6;
    const x = randomArray(N * HW * C, 31), dy = randomArray(N * C, 32);
    const avg = (q: Float32Array) => {
      const py = h.alloc(N * C);
      h.rt.k.global_avgpool_forward(h.up(q), py, N, HW, C);
      return h.get(py, N * C);
    };
    const mx = (q: Float32Array) => {
      const py = h.alloc(N * C), arg = h.alloc(N * C);
      h.rt.k.global_maxpool_forward(h.up(q), py, arg, N, HW, C, false);
      return { y: h.get(py, N * C), arg };
    };
    const mark = h.rt.arena.mark();
    const ya = avg(x), ym = mx(x).y;
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      let s = 0, m = -Infinity;
      for (let p = 0; p < HW; p++) { s += x[(n * HW + p) * C + c]; m = Math.max(m, x[(n * HW + p) * C + c]); }
      expect(ya[n * C + c]).toBeCloseTo(s / HW, 6);
      expect(ym[n * C + c]).toBe(m);
    }
    const pdx = h.alloc(x.length);
    h.rt.k.global_avgpool_backward(h.up(dy), pdx, N, HW, C);
    fdCheck('global avg dx', avg, x, dy, h.get(pdx, x.length));
    h.rt.k.maxpool_backward(h.up(dy), mx(x).arg, pdx, N * C, x.length);
    fdCheck('global max dx', (q) => mx(q).y, x, dy, h.get(pdx, x.length), { h: 1e-3 });
    h.rt.arena.freeSince(mark);
  });

  test('zero padding forward places x inside zeros; backward takes the interior', () => {
    const N = 2, H = 3, W = 4, C = 3, t = 1, b = 2, l = 3, r = 0;
    const YH = H + t + b, YW = W + l + r;
    const x = randomArray(N * H * W * C, 41);
    const py = h.alloc(N * YH * YW * C);
    h.rt.k.zeropad_forward(h.up(x), py, N, H, W, C, t, b, l, r);
    const y = h.get(py, N * YH * YW * C);
    for (let n = 0; n < N; n++) for (let i = 0; i < YH; i++) for (let j = 0; j < YW; j++) for (let c = 0; c < C; c++) {
      const inside = i >= t && i < t + H && j >= l && j < l + W;
      const want = inside ? x[((n * H + i - t) * W + j - l) * C + c] : 0;
      expect(y[((n * YH + i) * YW + j) * C + c]).toBe(want);
    }
    const pdx = h.alloc(x.length);
    h.rt.k.zeropad_backward(py, pdx, N, H, W, C, t, b, l, r);
    expect(Array.from(h.get(pdx, x.length))).toEqual(Array.from(x));
  });
});
