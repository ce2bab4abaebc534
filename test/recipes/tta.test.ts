// Test-time augmentation: its views are the image, its mirror image and a centre crop of both,
// and its probabilities are their average.
import { expect, test } from 'vitest';
import { convNet, predictWithTta, tensor, ttaViews, TTA_CROP } from '../../src/index.js';

const H = 16, W = 16;
// A gradient left to right, and a dot near the left edge.
const x = tensor(Float32Array.from({ length: 2 * H * W * 3 }, (_, i) => {
  const n = Math.floor(i / (H * W * 3)), p = Math.floor(i / 3) % (H * W), col = p % W, row = Math.floor(p / W);
  return n === 0 ? col / (W - 1) : (row === 8 && col === 1 ? 1 : 0);
}), [2, H, W, 3]);
const at = (t: { data: Float32Array }, n: number, row: number, col: number) => t.data[((n * H + row) * W + col) * 3];

test('the four views: as is, mirrored, a centre crop and it mirrored', () => {
  const [same, mirror, crop, cropMirror] = ttaViews(x);
  expect(same).toBe(x);
  for (let col = 0; col < W; col++) expect(at(mirror, 0, 5, col)).toBeCloseTo(at(x, 0, 5, W - 1 - col), 6);
  // The crop stretches the central 87.5%: the gradient now starts above 0 and ends below 1.
  expect(at(crop, 0, 5, 0)).toBeGreaterThan(0.03);
  expect(at(crop, 0, 5, W - 1)).toBeLessThan(0.97);
  expect(at(crop, 0, 5, 0) + at(crop, 0, 5, W - 1)).toBeCloseTo(1, 5);
  for (let col = 0; col < W; col++) expect(at(cropMirror, 0, 5, col)).toBeCloseTo(at(crop, 0, 5, W - 1 - col), 6);
  expect(TTA_CROP).toBe(0.875);
});

test('predictWithTta is the mean of the views\' probabilities', async () => {
  const m = convNet({ seed: 1, inputShape: [H, W, 3] });
  const views = ttaViews(x);
  const each = await Promise.all(views.map(async (v) => (await m.predictProbabilities(v, { threads: 1 })).data));
  const tta = (await predictWithTta(m, x, { threads: 1 })).data;
  for (let i = 0; i < tta.length; i++) expect(tta[i]).toBeCloseTo((each[0][i] + each[1][i] + each[2][i] + each[3][i]) / 4, 6);
  expect(tta.length).toBe(2 * 6);
  await m.dispose();
});
