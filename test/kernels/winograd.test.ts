import { describe, expect, test } from 'vitest';
import { cases } from '../helpers/goldens.js';
import { harness, type Harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';
import { window2d, type Padding } from '../../src/kernels/padding.js';
import { winogradScratchBytes } from '../../src/kernels/conv-algorithm.js';

interface Shape { N: number; H: number; W: number; C: number; F: number; padding: Padding }

// The three passes of a 3x3 stride-1 convolution, by Winograd F(tile x tile, 3x3) and by im2col + GEMM.
function both(h: Harness, s: Shape, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array, tile: number) {
  const { N, H, W, C, F } = s;
  const { OH, OW, padT, padL } = window2d(H, W, 3, 3, 1, s.padding);
  const mark = h.rt.arena.mark();
  const k = h.rt.k, ws = h.rt.gemmWorkspace;
  const scratch = h.rt.arena.alloc(winogradScratchBytes({ N, H, W, C, F, KH: 3, KW: 3, stride: 1, padT, padL, OH, OW }, tile));
  const cols = h.alloc(N * OH * OW * 9 * C);
  const px = h.up(x), pw = h.up(w), pb = b ? h.up(b) : 0, pdy = h.up(dy);
  const y1 = h.alloc(N * OH * OW * F), y2 = h.alloc(N * OH * OW * F), dx1 = h.alloc(x.length), dx2 = h.alloc(x.length);
  const dw1 = h.alloc(w.length), dw2 = h.alloc(w.length), db1 = h.alloc(F), db2 = h.alloc(F);
  // Accumulating into gradients that hold something already.
  h.rt.f32(dw1, w.length).fill(0.5); h.rt.f32(dw2, w.length).fill(0.5); h.rt.f32(db1, F).fill(0.5); h.rt.f32(db2, F).fill(0.5);
  k.conv2d_winograd_forward(px, pw, pb, y1, N, H, W, C, F, padT, padL, OH, OW, tile, scratch, ws);
  k.conv2d_forward(px, pw, pb, y2, N, H, W, C, 3, 3, F, 1, padT, padL, OH, OW, cols, ws);
  k.conv2d_winograd_backward_input(pdy, pw, dx1, N, H, W, C, F, padT, padL, OH, OW, tile, scratch, ws);
  k.conv2d_backward_input(pdy, pw, dx2, N, H, W, C, 3, 3, F, 1, padT, padL, OH, OW, cols, ws);
  k.conv2d_winograd_backward_kernel(px, pdy, dw1, db1, N, H, W, C, F, padT, padL, OH, OW, 1, tile, scratch, ws);
  k.conv2d_backward_kernel(px, pdy, dw2, db2, N, H, W, C, 3, 3, F, 1, padT, padL, OH, OW, 1, cols, ws);
  const r = {
    y: h.get(y1, N * OH * OW * F), yDirect: h.get(y2, N * OH * OW * F), dx: h.get(dx1, x.length), dxDirect: h.get(dx2, x.length),
    dw: h.get(dw1, w.length), dwDirect: h.get(dw2, w.length), db: h.get(db1, F), dbDirect: h.get(db2, F),
  };
  h.rt.arena.freeSince(mark);
  return r;
}

const h = harness();

// F(4x4)'s transforms round more (thirds and twenty-fourths, products up to 8x): 1e-5 holds on
// these values, which lie in [-1, 1) as in the goldens (docs/numerics.md has the measured errors).
describe.each([['2x2', 2], ['4x4', 4]] as const)('Winograd F(%s, 3x3)', (_, tile) => {
  const shapes: Shape[] = [
    { N: 2, H: 15, W: 15, C: 8, F: 8, padding: 'same' },   // odd map: tiles past the edge
    { N: 1, H: 7, W: 10, C: 5, F: 7, padding: 'same' },    // channels not a multiple of 4
    { N: 2, H: 9, W: 6, C: 3, F: 6, padding: 'valid' },
    { N: 3, H: 2, W: 2, C: 12, F: 4, padding: 'same' },    // res5's 2x2 maps
    { N: 1, H: 3, W: 5, C: 1, F: 1, padding: 'valid' },
    { N: 2, H: 12, W: 13, C: 6, F: 9, padding: 'same' },   // F(4x4): whole tiles inside the image, and partial ones
  ];
  test.each(shapes)('forward and both backward passes match im2col + GEMM: %o', (s) => {
    const { N, H, W, C, F } = s;
    const { OH, OW } = window2d(H, W, 3, 3, 1, s.padding);
    const x = randomArray(N * H * W * C, 21), w = randomArray(9 * C * F, 22), b = randomArray(F, 23);
    const dy = randomArray(N * OH * OW * F, 24);
    const r = both(h, s, x, w, b, dy, tile);
    expectClose(r.y, r.yDirect, 1e-5, 'forward');
    expectClose(r.dx, r.dxDirect, 1e-5, 'backward to input');
    expectClose(r.dw, r.dwDirect, 1e-5, 'backward to kernel (accumulated)');
    expectClose(r.db, r.dbDirect, 1e-5, 'backward to bias (accumulated)');
  });

  test('no bias: the output is the convolution alone', () => {
    const s: Shape = { N: 1, H: 4, W: 4, C: 4, F: 4, padding: 'same' };
    const x = randomArray(64, 31), w = randomArray(144, 32);
    const r = both(h, s, x, w, null, randomArray(64, 33), tile);
    expectClose(r.y, r.yDirect, 1e-5, 'forward');
  });
});

describe.each([['2x2', 2], ['4x4', 4]] as const)('Winograd F(%s, 3x3) against the PyTorch goldens', async (_, tile) => {
  const threeByThree = (await cases('conv2d')).filter((c) => {
    const w = c.get('w');
    return w.shape[0] === 3 && w.shape[1] === 3 && c.attrs.stride === 1;
  });
  test('the goldens have 3x3 stride-1 cases', () => expect(threeByThree.length).toBeGreaterThan(0));
  for (const c of threeByThree) {
    test(c.name, () => {
      const x = c.get('x'), w = c.get('w');
      const [N, H, W, C] = x.shape, F = w.shape[3];
      const b = c.has('b') ? c.get('b').data : null;
      const r = both(h, { N, H, W, C, F, padding: c.attrs.padding as Padding }, x.data, w.data, b, c.get('dy').data, tile);
      expectClose(r.y, c.get('y').data, 1e-4, `${c.name} y`);
      expectClose(r.dx, c.get('dx').data, 1e-4, `${c.name} dx`);
      // The gradients were accumulated onto 0.5.
      expectClose(r.dw.map((v) => v - 0.5), c.get('dw').data, 1e-4, `${c.name} dw`);
    });
  }
});
