import { describe, expect, test } from 'vitest';
import { harness } from '../helpers/harness.js';

const h = harness();

// The reference: what the JavaScript loop it replaced returned.
function direct(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

describe('first_non_finite and Runtime.firstNonFinite', () => {
  // Extremes that are finite: the largest floats, the smallest subnormal, negative zero.
  const finite = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, -0, 0, 1];
  const lengths = [0, 1, 15, 16, 17, 100, 16384, 16385, 40000];

  test('finds the first NaN or infinity at every place of the SIMD block, the tail and the chunks', () => {
    for (const n of lengths) {
      const base = Float32Array.from({ length: n }, (_, i) => finite[i % finite.length] * (i % 3 === 0 ? 1 : 0.5));
      expect(h.rt.firstNonFinite(base)).toBe(-1);
      const places = new Set([0, 1, 3, 4, 15, 16, n - 17, n - 1, n >> 1, 16383, 16384, 16385].filter((p) => p >= 0 && p < n));
      for (const at of places) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const a = base.slice();
          a[at] = bad;
          if (at + 5 < n) a[at + 5] = NaN; // a later one must not win
          expect(h.rt.firstNonFinite(a), `n ${n}, ${bad} at ${at}`).toBe(direct(a));
          expect(direct(a)).toBe(at);
          const p = h.up(a);
          expect(h.rt.k.first_non_finite(p, n)).toBe(at);
        }
      }
    }
  });

  test('a NaN with a payload and a negative NaN count as NaN', () => {
    const a = new Float32Array(32);
    const bits = new Uint32Array(a.buffer);
    bits[20] = 0xffc00001; // negative quiet NaN with a payload
    expect(h.rt.firstNonFinite(a)).toBe(20);
    bits[9] = 0x7f800001; // signalling NaN
    expect(h.rt.firstNonFinite(a)).toBe(9);
  });
});
