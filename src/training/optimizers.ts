// Optimizers: the per-step scalars are computed here in double precision; the update itself is
// a kernel over a flat slice of parameters, so any number of threads can share it.

import { ArgumentError } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';

export interface OptimizerUpdate {
  readonly kind: 'adam' | 'sgd';
  readonly args: number[]; // the kernel's scalar arguments for this step
}

export interface Optimizer {
  readonly className: string;
  readonly slotNames: string[]; // per-parameter state vectors, e.g. m and v
  iterations: number;
  learningRate: number;
  // Advances the step counter and returns what the update kernel needs for this step.
  nextUpdate(): OptimizerUpdate;
  getConfig(): Record<string, number | boolean>;
}

// Applies one update to n floats: parameters p, gradients g, state vectors `slots`.
export function applyUpdate(k: KernelExports, u: OptimizerUpdate, p: number, g: number, slots: number[], n: number): void {
  if (n <= 0) return;
  if (u.kind === 'adam') {
    const [lrT, b1, c1, b2, c2, eps] = u.args;
    k.adam_update(p, g, slots[0], slots[1], n, lrT, b1, c1, b2, c2, eps);
  } else {
    const [lr, momentum, nesterov] = u.args;
    k.sgd_update(p, g, slots[0], n, lr, momentum, nesterov);
  }
}

function checkRate(what: string, v: number, lo: number, hi: number, openLo = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (openLo && v === lo)) {
    throw new ArgumentError(`simdnet: optimizer ${what} must be a number in ${openLo ? '(' : '['}${lo}, ${hi}], got ${v}`);
  }
  return v;
}

export interface AdamArgs { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number }

// Adam with Keras's defaults and update form (epsilon added to sqrt(v), bias correction in the rate).
export class Adam implements Optimizer {
  readonly className = 'Adam';
  readonly slotNames = ['m', 'v'];
  iterations = 0;
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(args: AdamArgs = {}) {
    this.learningRate = checkRate('learningRate', args.learningRate ?? 1e-3, 0, Infinity, true);
    this.beta1 = checkRate('beta1', args.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRate('beta2', args.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkRate('epsilon', args.epsilon ?? 1e-7, 0, Infinity);
  }

  nextUpdate(): OptimizerUpdate {
    const t = ++this.iterations;
    const lrT = this.learningRate * Math.sqrt(1 - this.beta2 ** t) / (1 - this.beta1 ** t);
    return { kind: 'adam', args: [lrT, this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2, this.epsilon] };
  }

  getConfig() {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export interface SGDArgs { learningRate?: number; momentum?: number; nesterov?: boolean }

// Stochastic gradient descent with optional (Nesterov) momentum, Keras's form.
export class SGD implements Optimizer {
  readonly className = 'SGD';
  readonly slotNames = ['momentum'];
  iterations = 0;
  learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(args: SGDArgs = {}) {
    this.learningRate = checkRate('learningRate', args.learningRate ?? 0.01, 0, Infinity, true);
    this.momentum = checkRate('momentum', args.momentum ?? 0, 0, 1);
    this.nesterov = args.nesterov ?? false;
  }

  nextUpdate(): OptimizerUpdate {
    this.iterations++;
    return { kind: 'sgd', args: [this.learningRate, this.momentum, this.nesterov ? 1 : 0] };
  }

  getConfig() {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov };
  }
}

export const optimizers = {
  adam: (args?: AdamArgs) => new Adam(args),
  sgd: (args?: SGDArgs) => new SGD(args),
};

export function getOptimizer(spec: 'adam' | 'sgd' | Optimizer): Optimizer {
  if (spec === 'adam') return new Adam();
  if (spec === 'sgd') return new SGD();
  if (spec && typeof spec === 'object' && typeof (spec as Optimizer).nextUpdate === 'function') return spec;
  throw new ArgumentError(`simdnet: unknown optimizer ${JSON.stringify(spec)} (expected "adam", "sgd" or an optimizer object)`);
}

export function optimizerFromConfig(className: string, config: Record<string, number | boolean>): Optimizer {
  if (className === 'Adam') return new Adam(config as AdamArgs);
  if (className === 'SGD') return new SGD(config as SGDArgs);
  throw new ArgumentError(`simdnet: unknown optimizer class "${className}"`);
}
