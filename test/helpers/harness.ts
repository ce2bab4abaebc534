// A kernel runtime for tests, with upload/download shortcuts and a finite-difference checker.
import { Runtime } from '../../src/kernels/index.js';
import type { KernelVariant } from '../../src/kernels/index.js';

export interface Harness {
  rt: Runtime;
  up(a: Float32Array): number;
  alloc(n: number): number;
  get(ptr: number, n: number): Float32Array;
}

// Kernel tests run the debug build (assertions on) unless they name a build.
export function harness(variant: KernelVariant = 'debug'): Harness {
  const rt = Runtime.create({ variant });
  return {
    rt,
    up: (a) => rt.upload(a),
    alloc: (n) => rt.arena.allocF32(n),
    get: (p, n) => rt.download(p, n),
  };
}

// Central-difference check of d/dp Σ f(p)·r against `analytic`, at `coords` coordinates spread
// over p. f runs the float32 kernels, so h is large and the tolerance loose: this catches wrong
// formulas and wrong indices, while the goldens pin the precision.
export function fdCheck(
  label: string, f: (p: Float32Array) => Float32Array, p: Float32Array, r: Float32Array,
  analytic: Float32Array, opts: { coords?: number; h?: number; tol?: number } = {},
): void {
  const { coords = 24, h = 1e-2, tol = 2e-2 } = opts;
  const L = (q: Float32Array): number => {
    const y = f(q);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };
  let scale = 0;
  for (const v of analytic) scale = Math.max(scale, Math.abs(v));
  const step = Math.max(1, Math.floor(p.length / coords));
  for (let i = 0; i < p.length; i += step) {
    const q = p.slice();
    q[i] = p[i] + h; const lp = L(q);
    q[i] = p[i] - h; const lm = L(q);
    const numeric = (lp - lm) / (2 * h);
    const err = Math.abs(numeric - analytic[i]);
    if (!(err <= tol * Math.max(scale, 1e-3))) {
      throw new Error(`${label}: gradient at ${i}: analytic ${analytic[i]}, numeric ${numeric} (scale ${scale})`);
    }
  }
}
