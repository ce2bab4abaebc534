import { describe, test } from 'vitest';
import { harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';
import { window2d, type Padding } from '../../src/kernels/padding.js';
import { convScratchBytes } from '../../src/kernels/conv-algorithm.js';

interface Shape { N: number; H: number; W: number; C: number; K: number; F: number; stride: number; padding: Padding }

const h = harness();

describe('direct convolution for few input channels', () => {
  const shapes: Shape[] = [
    { N: 2, H: 64, W: 64, C: 3, K: 4, F: 8, stride: 1, padding: 'same' },   // the ConvNet's W1
    { N: 3, H: 8, W: 8, C: 8, K: 2, F: 16, stride: 1, padding: 'same' },    // its W2
    { N: 1, H: 11, W: 9, C: 1, K: 3, F: 12, stride: 2, padding: 'same' },   // 9 cells: two groups of four and one; 8 + 4 filters
    { N: 2, H: 7, W: 3, C: 2, K: 3, F: 4, stride: 1, padding: 'valid' },    // rows narrower than four pixels
    { N: 1, H: 10, W: 10, C: 4, K: 1, F: 20, stride: 1, padding: 'valid' }, // pointwise
    { N: 2, H: 9, W: 13, C: 3, K: 4, F: 8, stride: 3, padding: 'same' },
    { N: 2, H: 70, W: 70, C: 3, K: 7, F: 64, stride: 2, padding: 'valid' }, // ResNet-50's conv1 (147 cells)
  ];
  // A dense dy, and one as max pooling passes it back (most pixels zero in every filter, some in
  // a few): the kernel gradient then runs over a list of the nonzero pixels.
  const cases = shapes.flatMap((s) => [{ ...s, sparse: false }, { ...s, sparse: true }]);
  test.each(cases)('forward and backward to the kernel match im2col + GEMM: %o', (s) => {
    const { N, H, W, C, K, F, stride } = s;
    const { OH, OW, padT, padL } = window2d(H, W, K, K, stride, s.padding);
    const x = randomArray(N * H * W * C, 41), w = randomArray(K * K * C * F, 42), b = randomArray(F, 43), dy = randomArray(N * OH * OW * F, 44);
    if (s.sparse) {
      const keep = randomArray(N * OH * OW, 45);
      for (let p = 0; p < keep.length; p++) {
        for (let f = 0; f < F; f++) if (keep[p] < 0.8 || (keep[p] < 0.9 && f % 3 === 0)) dy[p * F + f] = 0;
      }
    }
    const mark = h.rt.arena.mark();
    const k = h.rt.k;
    const scratch = h.rt.arena.alloc(Math.max(4, convScratchBytes({ N, H, W, C, F, KH: K, KW: K, stride, padT, padL, OH, OW }, false)));
    const px = h.up(x), pw = h.up(w), pb = h.up(b), pdy = h.up(dy);
    const y1 = h.alloc(dy.length), y2 = h.alloc(dy.length);
    const dw1 = h.up(new Float32Array(w.length).fill(0.5)), dw2 = h.up(new Float32Array(w.length).fill(0.5));
    const db1 = h.up(new Float32Array(F).fill(0.5)), db2 = h.up(new Float32Array(F).fill(0.5));
    const geo = [N, H, W, C, K, K, F, stride, padT, padL, OH, OW] as const;
    k.conv2d_direct_forward(px, pw, pb, y1, ...geo, scratch);
    k.conv2d_forward(px, pw, pb, y2, ...geo, scratch, h.rt.gemmWorkspace);
    expectClose(h.get(y1, dy.length), h.get(y2, dy.length), 1e-5, 'forward');
    k.conv2d_direct_backward_kernel(px, pdy, dw1, db1, ...geo, 1, scratch);
    k.conv2d_backward_kernel(px, pdy, dw2, db2, ...geo, 1, scratch, h.rt.gemmWorkspace);
    expectClose(h.get(dw1, w.length), h.get(dw2, w.length), 1e-5, 'backward to the kernel (accumulated)');
    expectClose(h.get(db1, F), h.get(db2, F), 1e-5, 'backward to the bias (accumulated)');
    k.conv2d_direct_backward_kernel(px, pdy, dw1, 0, ...geo, 0, scratch);
    k.conv2d_backward_kernel(px, pdy, dw2, 0, ...geo, 0, scratch, h.rt.gemmWorkspace);
    expectClose(h.get(dw1, w.length), h.get(dw2, w.length), 1e-5, 'backward to the kernel (written)');
    h.rt.arena.freeSince(mark);
  });
});
