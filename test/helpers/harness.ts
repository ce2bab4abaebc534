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

// The coordinates a finite-difference check visits: the first and last, `coords` drawn at random
// (seeded: the same every run), and, given p's shape, one in every channel (the last axis) and
// one on each border of an (N, H, W, C) tensor, where padding makes kernels go wrong. A fixed
// stride would not do: one that is a multiple of the channel count sees a single channel.
export function fdCoordinates(length: number, coords: number, shape?: number[]): number[] {
  const at = new Set<number>([0, length - 1]);
  let s = 0x9e3779b9;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let k = 0; k < coords; k++) at.add(Math.floor(random() * length));
  if (shape) {
    const C = shape[shape.length - 1];
    for (let c = 0; c < C; c++) at.add(Math.floor(random() * (length / C)) * C + c);
    if (shape.length === 4) {
      const [N, H, W] = shape;
      const idx = (n: number, y: number, x: number) => (((n * H + y) * W + x) * C) + Math.floor(random() * C);
      const n = Math.floor(random() * N), y = Math.floor(random() * H), x = Math.floor(random() * W);
      for (const i of [idx(n, 0, x), idx(n, H - 1, x), idx(n, y, 0), idx(n, y, W - 1)]) at.add(i);
    }
  }
  return [...at].sort((a, b) => a - b);
}

// Central-difference check of d/dp Σ f(p)·r against `analytic`, at the coordinates above. f runs
// the float32 kernels: for an op that is linear in p (a convolution, a dense layer, in either of
// its operands) any h is exact but for rounding, so h = 1 and a tight tolerance hold it; for
// others h is small and the tolerance looser. The goldens pin the precision.
export function fdCheck(
  label: string, f: (p: Float32Array) => Float32Array, p: Float32Array, r: Float32Array,
  analytic: Float32Array, opts: { coords?: number; h?: number; tol?: number; shape?: number[]; linear?: boolean } = {},
): void {
  const { coords = 48, h = opts.linear ? 1 : 1e-2, tol = opts.linear ? 1e-3 : 2e-2 } = opts;
  const L = (q: Float32Array): number => {
    const y = f(q);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };
  let scale = 0;
  for (const v of analytic) scale = Math.max(scale, Math.abs(v));
  for (const i of fdCoordinates(p.length, coords, opts.shape)) {
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
