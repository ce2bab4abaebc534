import { describe, expect, test } from 'vitest';
import { cases } from '../helpers/goldens.js';
import { harness, fdCheck, type Harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';
import { window2d, type Padding } from '../../src/kernels/padding.js';

interface Conv { N: number; H: number; W: number; C: number; KH: number; KW: number; F: number; stride: number; padding: Padding }

function run(h: Harness, s: Conv, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array | null) {
  const { N, H, W, C, KH, KW, F, stride } = s;
  const { OH, OW, padT, padL } = window2d(H, W, KH, KW, stride, s.padding);
  const mark = h.rt.arena.mark();
  const cols = h.alloc(N * OH * OW * KH * KW * C);
  const px = h.up(x), pw = h.up(w), pb = b ? h.up(b) : 0, py = h.alloc(N * OH * OW * F);
  const ws = h.rt.gemmWorkspace;
  h.rt.k.conv2d_forward(px, pw, pb, py, N, H, W, C, KH, KW, F, stride, padT, padL, OH, OW, cols, ws);
  const y = h.get(py, N * OH * OW * F);
  let dx, dw, db;
  if (dy) {
    const pdy = h.up(dy), pdx = h.alloc(x.length), pdw = h.alloc(w.length), pdb = b ? h.alloc(F) : 0;
    h.rt.k.conv2d_backward_input(pdy, pw, pdx, N, H, W, C, KH, KW, F, stride, padT, padL, OH, OW, cols, ws);
    h.rt.k.conv2d_backward_kernel(px, pdy, pdw, pdb, N, H, W, C, KH, KW, F, stride, padT, padL, OH, OW, 0, cols, ws);
    dx = h.get(pdx, x.length); dw = h.get(pdw, w.length); db = b ? h.get(pdb, F) : undefined;
  }
  h.rt.arena.freeSince(mark);
  return { y, dx, dw, db, OH, OW };
}

// Direct convolution in float64, straight from the definition.
function naiveConv(s: Conv, x: Float32Array, w: Float32Array, b: Float32Array | null): Float64Array {
  const { N, H, W, C, KH, KW, F, stride } = s;
  const { OH, OW, padT, padL } = window2d(H, W, KH, KW, stride, s.padding);
  const y = new Float64Array(N * OH * OW * F);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let f = 0; f < F; f++) {
    let acc = b ? b[f] : 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * stride - padT + kh, iw = ow * stride - padL + kw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      for (let c = 0; c < C; c++) acc += x[((n * H + ih) * W + iw) * C + c] * w[((kh * KW + kw) * C + c) * F + f];
    }
    y[((n * OH + oh) * OW + ow) * F + f] = acc;
  }
  return y;
}

const h = harness();

describe('conv2d against the PyTorch goldens', async () => {
  for (const c of await cases('conv2d')) {
    test(c.name, () => {
      const x = c.get('x'), w = c.get('w');
      const [N, H, W, C] = x.shape, [KH, KW, , F] = w.shape;
      const s: Conv = { N, H, W, C, KH, KW, F, stride: c.attrs.stride as number, padding: c.attrs.padding as Padding };
      const b = c.has('b') ? c.get('b').data : null;
      const r = run(h, s, x.data, w.data, b, c.get('dy').data);
      expectClose(r.y, c.get('y').data, 1e-4, `${c.name} y`);
      expectClose(r.dx!, c.get('dx').data, 1e-4, `${c.name} dx`);
      expectClose(r.dw!, c.get('dw').data, 1e-4, `${c.name} dw`);
      if (b) expectClose(r.db!, c.get('db').data, 1e-4, `${c.name} db`);
    });
  }
});

describe('conv2d on awkward shapes', () => {
  const shapes: Conv[] = [
    { N: 1, H: 5, W: 7, C: 3, KH: 3, KW: 3, F: 5, stride: 2, padding: 'same' },
    { N: 2, H: 6, W: 6, C: 3, KH: 2, KW: 2, F: 9, stride: 1, padding: 'same' },   // even kernel: odd padding at the end
    { N: 1, H: 9, W: 4, C: 5, KH: 4, KW: 1, F: 3, stride: 3, padding: 'same' },
    { N: 3, H: 7, W: 7, C: 1, KH: 7, KW: 7, F: 2, stride: 2, padding: 'valid' },
    { N: 2, H: 5, W: 5, C: 6, KH: 1, KW: 1, F: 13, stride: 1, padding: 'valid' }, // pointwise: no im2col
    { N: 1, H: 8, W: 8, C: 4, KH: 5, KW: 5, F: 4, stride: 1, padding: 'same' },   // kernel wider than half the image
  ];
  test.each(shapes)('forward matches a direct convolution, gradients match finite differences: %o', (s) => {
    const { N, H, W, C, KH, KW, F } = s;
    const x = randomArray(N * H * W * C, 11), w = randomArray(KH * KW * C * F, 12), b = randomArray(F, 13);
    const { y } = run(h, s, x, w, b, null);
    expectClose(y, naiveConv(s, x, w, b), 1e-5, 'forward');
    const dy = randomArray(y.length, 14);
    const g = run(h, s, x, w, b, dy);
    // Linear in each of x, w and b: h = 1 is exact but for rounding, so the tolerance is tight.
    fdCheck('dx', (q) => run(h, s, q, w, b, null).y, x, dy, g.dx!, { linear: true, shape: [s.N, s.H, s.W, s.C] });
    fdCheck('dw', (q) => run(h, s, x, q, b, null).y, w, dy, g.dw!, { linear: true, shape: [s.KH, s.KW, s.C, s.F] });
    fdCheck('db', (q) => run(h, s, x, w, q, null).y, b, dy, g.db!, { linear: true, shape: [s.F] });
  });
});

test('a golden group that is missing fails its test file instead of generating no tests', async () => {
  await expect(cases('no_such_group')).rejects.toThrow(/goldens: group "no_such_group" holds 0 cases \(expected at least 1\)/);
});

test('finite differences visit every channel and every border of an (N, H, W, C) tensor', async () => {
  const { fdCoordinates } = await import('../helpers/harness.js');
  const [N, H, W, C] = [2, 6, 5, 8];
  const at = fdCoordinates(N * H * W * C, 24, [N, H, W, C]);
  expect(new Set(at.map((i) => i % C)).size).toBe(C);
  const rows = at.map((i) => Math.floor(i / (W * C)) % H), cols = at.map((i) => Math.floor(i / C) % W);
  expect(rows).toContain(0); expect(rows).toContain(H - 1); expect(cols).toContain(0); expect(cols).toContain(W - 1);
  // The stride it replaces, floor(480 / 24) = 20 elements over 8 channels, saw only channels 0 and 4.
  expect(new Set(Array.from({ length: 24 }, (_, k) => (k * Math.floor((N * H * W * C) / 24)) % C)).size).toBe(2);
});
