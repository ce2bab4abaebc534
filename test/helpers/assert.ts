import { expect } from 'vitest';

// Max abs error at most tol x the largest magnitude of the reference (the goldens' criterion).
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  const bound = tol * Math.max(scale, 1e-30);
  if (!(worst <= bound)) {
    throw new Error(`${label}: max abs error ${worst.toExponential(3)} at ${at} (got ${actual[at]}, want ${expected[at]}) ` +
      `exceeds ${tol} x ${scale.toExponential(3)}`);
  }
}

// A seeded uniform [-1, 1) generator for test data.
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

export function randomArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r());
}
