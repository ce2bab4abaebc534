// The optimizer classes against Keras's update rules, written out here in float64 (keras/src/
// optimizers/adam.py, adamw.py, sgd.py as formulas): several steps under a schedule, through the
// classes' own nextUpdate() and the kernels, so that the bias correction, the step count the
// schedule sees, the epsilon default and AdamW's decoupled decay are all checked.
import { describe, expect, test } from 'vitest';
import { Adam, AdamW, SGD } from '../../src/training/optimizers.js';
import { applyUpdate, type Optimizer } from '../../src/training/optimizers.js';
import { ExponentialDecay } from '../../src/training/schedules.js';
import { Runtime } from '../../src/kernels/index.js';
import { randomArray } from '../helpers/assert.js';

const N = 37, STEPS = 6;
// lr(step) = 0.01 * 0.5^(step / 2): Keras evaluates the schedule at the step count before the step.
const schedule = new ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 2, decayRate: 0.5 });
const lrAt = (step: number) => 0.01 * 0.5 ** (step / 2);
const p0 = randomArray(N, 1), grads = Array.from({ length: STEPS }, (_, t) => randomArray(N, 10 + t));

// Runs the optimizer's updates through the kernels; returns the parameters after each step.
function run(opt: Optimizer): Float64Array[] {
  const rt = Runtime.create({ variant: 'simd' });
  const p = rt.upload(p0), g = rt.arena.allocF32(N);
  const slots = opt.slotNames.map(() => rt.upload(new Float32Array(N)));
  const out: Float64Array[] = [];
  for (let t = 0; t < STEPS; t++) {
    rt.f32(g, N).set(grads[t]);
    applyUpdate(rt.k, opt.nextUpdate(), { p, slots }, g, { p, slots }, N);
    out.push(Float64Array.from(rt.f32(p, N)));
  }
  return out;
}

function expectNear(got: Float64Array, want: Float64Array, what: string): void {
  for (let i = 0; i < N; i++) expect(Math.abs(got[i] - want[i]), `${what} [${i}]`).toBeLessThan(1e-6 + 2e-6 * Math.abs(want[i]));
}

// Keras's Adam: m += (g - m)(1 - b1); v += (g² - v)(1 - b2); alpha = lr sqrt(1 - b2^t) / (1 - b1^t);
// p -= alpha m / (sqrt(v) + eps), t counting from 1. AdamW first does p -= p * wd * lr.
function kerasAdam(b1: number, b2: number, eps: number, wd: number): Float64Array[] {
  const p = Float64Array.from(p0), m = new Float64Array(N), v = new Float64Array(N);
  const out: Float64Array[] = [];
  for (let step = 0; step < STEPS; step++) {
    const lr = lrAt(step), t = step + 1;
    const alpha = lr * Math.sqrt(1 - b2 ** t) / (1 - b1 ** t);
    for (let i = 0; i < N; i++) {
      const g = grads[step][i];
      p[i] -= p[i] * wd * lr;
      m[i] += (g - m[i]) * (1 - b1);
      v[i] += (g * g - v[i]) * (1 - b2);
      p[i] -= (m[i] * alpha) / (Math.sqrt(v[i]) + eps);
    }
    out.push(Float64Array.from(p));
  }
  return out;
}

// Keras's SGD with momentum: m = momentum m - lr g; p += m (Nesterov: p += momentum m - lr g).
function kerasSgd(momentum: number, nesterov: boolean): Float64Array[] {
  const p = Float64Array.from(p0), m = new Float64Array(N);
  const out: Float64Array[] = [];
  for (let step = 0; step < STEPS; step++) {
    const lr = lrAt(step);
    for (let i = 0; i < N; i++) {
      const g = grads[step][i];
      m[i] = momentum * m[i] - lr * g;
      p[i] += nesterov ? momentum * m[i] - lr * g : m[i];
    }
    out.push(Float64Array.from(p));
  }
  return out;
}

describe('optimizer classes against Keras\'s formulas, in float64', () => {
  test('Adam with its defaults (beta1 0.9, beta2 0.999, epsilon 1e-7) under a schedule', () => {
    const opt = new Adam({ learningRate: schedule });
    expect([opt.beta1, opt.beta2, opt.epsilon]).toEqual([0.9, 0.999, 1e-7]);
    const got = run(opt), want = kerasAdam(0.9, 0.999, 1e-7, 0);
    for (let t = 0; t < STEPS; t++) expectNear(got[t], want[t], `Adam step ${t + 1}`);
    expect(opt.iterations).toBe(STEPS);
  });

  test('Adam with other betas and a large epsilon (which the rule adds to sqrt(v), not scaled)', () => {
    const got = run(new Adam({ learningRate: schedule, beta1: 0.5, beta2: 0.9, epsilon: 0.1 }));
    const want = kerasAdam(0.5, 0.9, 0.1, 0);
    for (let t = 0; t < STEPS; t++) expectNear(got[t], want[t], `Adam step ${t + 1}`);
  });

  test('AdamW: decay decoupled from the gradient, at the scheduled rate (default 0.004, here 0.3)', () => {
    expect(new AdamW().weightDecay).toBe(0.004);
    const got = run(new AdamW({ learningRate: schedule, weightDecay: 0.3 }));
    const want = kerasAdam(0.9, 0.999, 1e-7, 0.3);
    for (let t = 0; t < STEPS; t++) expectNear(got[t], want[t], `AdamW step ${t + 1}`);
    // The decay matters at this size: plain Adam differs.
    const adam = kerasAdam(0.9, 0.999, 1e-7, 0);
    expect(Math.max(...got[STEPS - 1].map((v, i) => Math.abs(v - adam[STEPS - 1][i])))).toBeGreaterThan(1e-4);
  });

  test('SGD plain, with momentum, and Nesterov', () => {
    for (const [momentum, nesterov] of [[0, false], [0.9, false], [0.9, true]] as const) {
      const got = run(new SGD({ learningRate: schedule, momentum, nesterov }));
      const want = kerasSgd(momentum, nesterov);
      for (let t = 0; t < STEPS; t++) expectNear(got[t], want[t], `SGD momentum ${momentum} nesterov ${nesterov} step ${t + 1}`);
    }
  });
});
