// The depthwise kernels' 3x3 forward path (nine weights held in registers across a strip of
// cells whose windows lie inside the image) must give the general loop's bits. The general loop
// runs for any other kernel size: a 4x4 kernel whose last row and column are zero adds exact
// zeros after the same nine taps in the same order, so its outputs are the 3x3 outputs to the bit.
import { describe, expect, test } from 'vitest';
import { harness } from '../helpers/harness.js';
import { randomArray } from '../helpers/assert.js';
import type { KernelVariant } from '../../src/kernels/index.js';

function check(variant: KernelVariant): void {
  const h = harness(variant), k = h.rt.k;
  // [H, W, C, stride, bias]: one channel, channel counts with a scalar tail, odd sizes, strips
  // longer than one, stride 2 over odd and even widths.
  const shapes = [[5, 7, 1, 1, true], [9, 6, 5, 1, false], [6, 71, 13, 1, true], [7, 77, 24, 2, true], [8, 9, 3, 2, false], [3, 3, 8, 1, true]] as const;
  for (const [H, W, C, stride, bias] of shapes) {
    const x = h.up(randomArray(H * W * C, H * W + C)), b = bias ? h.up(randomArray(C, C)) : 0;
    const w3 = randomArray(9 * C, 7 * C);
    const w4 = new Float32Array(16 * C);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) w4.set(w3.subarray((i * 3 + j) * C, (i * 3 + j + 1) * C), (i * 4 + j) * C);
    const wp3 = h.up(w3), wp4 = h.up(w4);
    // 'valid' windows starting at the same corners: the 4x4 one's last row and column weigh 0.
    const OH = Math.floor((H - 4) / stride) + 1, OW = Math.floor((W - 4) / stride) + 1;
    const OH3 = Math.floor((H - 3) / stride) + 1, OW3 = Math.floor((W - 3) / stride) + 1;
    const y3 = h.alloc(OH3 * OW3 * C), y4 = h.alloc(OH * OW * C);
    k.depthwise_conv2d_forward(x, wp3, b, y3, 1, H, W, C, 3, 3, stride, 1, 0, 0, OH3, OW3);
    k.depthwise_conv2d_forward(x, wp4, b, y4, 1, H, W, C, 4, 4, stride, 1, 0, 0, OH, OW);
    const got = h.get(y3, OH3 * OW3 * C), want = h.get(y4, OH * OW * C);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          const at = `${H}x${W}x${C} stride ${stride}, cell (${oh}, ${ow}) channel ${c}`;
          expect(got[(oh * OW3 + ow) * C + c], at).toBe(want[(oh * OW + ow) * C + c]);
        }
      }
    }
    // With 'same' padding the border cells take the general loop and the rest the strip: the
    // second image of a batch of two equals the same image alone.
    const pad = 1, OHs = Math.floor((H + 2 * pad - 3) / stride) + 1, OWs = Math.floor((W + 2 * pad - 3) / stride) + 1;
    const two = h.up(new Float32Array([...randomArray(H * W * C, 99), ...h.get(x, H * W * C)]));
    const yTwo = h.alloc(2 * OHs * OWs * C), yOne = h.alloc(OHs * OWs * C);
    k.depthwise_conv2d_forward(two, wp3, b, yTwo, 2, H, W, C, 3, 3, stride, 1, pad, pad, OHs, OWs);
    k.depthwise_conv2d_forward(x, wp3, b, yOne, 1, H, W, C, 3, 3, stride, 1, pad, pad, OHs, OWs);
    expect(h.get(yTwo, 2 * OHs * OWs * C).subarray(OHs * OWs * C), `${H}x${W}x${C} stride ${stride}, same`).toEqual(h.get(yOne, OHs * OWs * C));
  }
}

// dx[n,h,w,c] = Σ over the dy cells whose windows hold (h, w) of dy · w at that tap, in float64.
function inputGradient(dy: Float32Array, w: Float32Array, H: number, W: number, C: number, K: number, stride: number, d: number, pad: number, OH: number, OW: number): Float64Array {
  const dx = new Float64Array(H * W * C);
  for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
    const h = oh * stride - pad + i * d, x = ow * stride - pad + j * d;
    if (h < 0 || h >= H || x < 0 || x >= W) continue;
    for (let c = 0; c < C; c++) dx[(h * W + x) * C + c] += dy[(oh * OW + ow) * C + c] * w[(i * K + j) * C + c];
  }
  return dx;
}

describe('depthwise input gradient (a gather with the kernel turned round at stride 1, a scatter at 2)', () => {
  test('against the definition: 3x3 and 5x5, dilation 1 and 2, same and valid padding, one channel and a scalar tail', () => {
    const h = harness(), k = h.rt.k;
    for (const [H, W, C, K, stride, d, pad] of [[9, 40, 6, 3, 1, 1, 1], [7, 8, 1, 3, 1, 1, 0], [10, 11, 5, 3, 1, 2, 2], [8, 9, 7, 5, 1, 1, 2], [9, 10, 13, 3, 2, 1, 1], [6, 7, 4, 3, 1, 2, 0]] as const) {
      const OH = Math.floor((H + 2 * pad - d * (K - 1) - 1) / stride) + 1, OW = Math.floor((W + 2 * pad - d * (K - 1) - 1) / stride) + 1;
      const dy = randomArray(OH * OW * C, H + C), w = randomArray(K * K * C, K + C);
      const dx = h.alloc(H * W * C);
      k.depthwise_conv2d_backward_input(h.up(dy), h.up(w), dx, 1, H, W, C, K, K, stride, d, pad, pad, OH, OW);
      const got = h.get(dx, H * W * C), want = inputGradient(dy, w, H, W, C, K, stride, d, pad, OH, OW);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `${H}x${W}x${C} ${K}x${K}/${stride} dilation ${d} pad ${pad}: dx[${i}]`).toBeLessThan(1e-5);
    }
  });
});

describe('depthwise kernel gradient (nine sums in registers over strips of inside cells)', () => {
  test('against the definition, with the bias gradient, added to what is there: strips past 32 cells, a scalar tail, stride 2, dilation 2', () => {
    const h = harness(), k = h.rt.k;
    for (const [N, H, W, C, stride, d, pad] of [[2, 6, 75, 6, 1, 1, 1], [1, 9, 40, 7, 2, 1, 1], [1, 8, 9, 1, 1, 1, 0], [1, 10, 12, 5, 1, 2, 2]] as const) {
      const K = 3, OH = Math.floor((H + 2 * pad - d * (K - 1) - 1) / stride) + 1, OW = Math.floor((W + 2 * pad - d * (K - 1) - 1) / stride) + 1;
      const x = randomArray(N * H * W * C, W + C), dy = randomArray(N * OH * OW * C, H + C), before = randomArray(K * K * C, 5), bBefore = randomArray(C, 6);
      const dw = h.up(before), db = h.up(bBefore);
      k.depthwise_conv2d_backward_kernel(h.up(x), h.up(dy), dw, db, N, H, W, C, K, K, stride, d, pad, pad, OH, OW, 1);
      const want = Float64Array.from(before), wantB = Float64Array.from(bBefore);
      for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
        const g = dy[((n * OH + oh) * OW + ow) * C + c];
        wantB[c] += g;
        for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
          const y = oh * stride - pad + i * d, xx = ow * stride - pad + j * d;
          if (y >= 0 && y < H && xx >= 0 && xx < W) want[(i * K + j) * C + c] += g * x[((n * H + y) * W + xx) * C + c];
        }
      }
      const got = h.get(dw, K * K * C), gotB = h.get(db, C);
      const at = `${N}x${H}x${W}x${C} stride ${stride} dilation ${d}`;
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `${at}: dw[${i}]`).toBeLessThan(1e-4);
      for (let c = 0; c < C; c++) expect(Math.abs(gotB[c] - wantB[c]), `${at}: db[${c}]`).toBeLessThan(1e-4);
    }
  });
});

describe('depthwise 3x3 forward: the register strip gives the general loop\'s bits', () => {
  test('debug build (assertions on)', () => check('debug'));
  test('relaxed-SIMD build (fused multiply-add where the CPU has it)', () => check('relaxed-simd'));
});
