// Temperature scaling and the expected calibration error: a known temperature is recovered from
// labels drawn at it, the error is what its definition gives on cases worked by hand, and a
// model keeps its temperature in its file and applies it in predictProbabilities only.
import { describe, expect, test } from 'vitest';
import { convNet, expectedCalibrationError, fitTemperature, loadModel, saveModel, tensor, withTemperature } from '../../src/index.js';
import { rng } from '../helpers/assert.js';

function softmax(z: number[], T = 1): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp((v - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// n rows of K logits; labels drawn from softmax(logits / T0); the model's probabilities softmax(logits).
function overconfident(n: number, K: number, T0: number, seed: number) {
  const signed = rng(seed), r = () => (signed() + 1) / 2; // uniform in [0, 1)
  const probs = new Float32Array(n * K), labels = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: K }, () => 4 * (r() - 0.5));
    z[i % K] += 3;
    probs.set(softmax(z), i * K);
    const truth = softmax(z, T0);
    let u = r(), k = 0;
    while (k < K - 1 && (u -= truth[k]) > 0) k++;
    labels[i * K + k] = 1;
  }
  return { probs, labels };
}

describe('temperature scaling', () => {
  test('recovers the temperature the labels were drawn at, and lowers the calibration error', () => {
    for (const T0 of [0.5, 2.5]) {
      const { probs, labels } = overconfident(20000, 6, T0, 7);
      const T = fitTemperature(probs, labels, 6);
      expect(Math.abs(T - T0) / T0).toBeLessThan(0.06);
      const before = expectedCalibrationError(probs, labels, 6), after = expectedCalibrationError(withTemperature(probs, 6, T), labels, 6);
      expect(after).toBeLessThan(0.02);
      expect(before).toBeGreaterThan(3 * after);
    }
  });

  test('a temperature changes confidence, never the answer; T = 1 changes nothing', () => {
    const { probs } = overconfident(500, 4, 2, 3);
    const argmax = (p: Float32Array, i: number) => { let k = 0; for (let j = 1; j < 4; j++) if (p[i * 4 + j] > p[i * 4 + k]) k = j; return k; };
    for (const T of [0.3, 3]) {
      const q = withTemperature(probs, 4, T);
      for (let i = 0; i < 500; i++) {
        expect(argmax(q, i)).toBe(argmax(probs, i));
        expect(Math.abs(q.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      }
    }
    expect(withTemperature(probs, 4, 1)).toBe(probs);
  });

  test('refuses mismatched shapes', () => {
    expect(() => fitTemperature(new Float32Array(6), new Float32Array(12), 6)).toThrow(/same \(N, 6\) shape/);
    expect(() => fitTemperature(new Float32Array(0), new Float32Array(0), 6)).toThrow(/N >= 1/);
  });
});

describe('expected calibration error', () => {
  test('is |accuracy - confidence| weighted by the bins, as defined', () => {
    // Ten rows at confidence 0.9, six of them right: 0.3. Then ten more at 0.55, all right: 0.45 in their bin.
    const K = 2, probs = new Float32Array(20 * K), labels = new Float32Array(20 * K);
    for (let i = 0; i < 10; i++) { probs.set([0.9, 0.1], i * K); labels[i * K + (i < 6 ? 0 : 1)] = 1; }
    expect(expectedCalibrationError(probs.subarray(0, 10 * K), labels.subarray(0, 10 * K), K)).toBeCloseTo(0.3, 6);
    for (let i = 10; i < 20; i++) { probs.set([0.45, 0.55], i * K); labels[i * K + 1] = 1; }
    expect(expectedCalibrationError(probs, labels, K)).toBeCloseTo((10 * 0.3 + 10 * 0.45) / 20, 6);
  });
});

test('a model keeps its temperature in its file and applies it in predictProbabilities, not in predict', async () => {
  const m = convNet({ seed: 2 });
  const x = tensor(Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => (i % 97) / 97), [2, 64, 64, 3]);
  const raw = await m.predict(x, { threads: 1 });
  const plain = await m.predictProbabilities(x, { threads: 1 });
  m.temperature = 2;
  const { model: again } = await loadModel(await saveModel(m));
  expect(again.temperature).toBe(2);
  expect(Array.from((await again.predict(x, { threads: 1 })).data)).toEqual(Array.from(raw.data));
  const soft = await again.predictProbabilities(x, { threads: 1 });
  expect(Math.max(...soft.data.subarray(0, 6))).toBeLessThan(Math.max(...plain.data.subarray(0, 6)));
  expect(Array.from(soft.data)).toEqual(Array.from(withTemperature(plain.data, 6, 2)));
  expect(() => { m.temperature = 0; }).toThrow(/temperature must be a positive number, got 0/);
  await Promise.all([m.dispose(), again.dispose()]);
});
