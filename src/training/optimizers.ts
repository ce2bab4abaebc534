// Optimizers: the per-step scalars are computed here in double precision; the update itself is
// a kernel over a flat slice of parameters, so any number of threads can share it.

import { ArgumentError } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';
import { scheduleFromConfig, type LearningRateSchedule } from './schedules.js';

export interface OptimizerUpdate {
  readonly kind: 'adam' | 'adamw' | 'sgd';
  readonly args: number[]; // the kernel's scalar arguments for this step
}

/** An optimizer: what the engine needs for each update, and its Keras config. */
export interface Optimizer {
  readonly className: string;
  readonly slotNames: string[]; // per-parameter state vectors, e.g. m and v
  iterations: number;
  /** A fixed rate, or a schedule of the step count. */
  learningRate: number | LearningRateSchedule;
  /** Advances the step counter and returns what the update kernel needs for this step. */
  nextUpdate(): OptimizerUpdate;
  /** Keras's optimizer config, for model files. */
  getConfig(): Record<string, unknown>;
}

/** The rate for the update after `step` earlier ones. */
export function rateAt(lr: number | LearningRateSchedule, step: number): number {
  return typeof lr === 'number' ? lr : lr.at(step);
}

type RateSpec = number | LearningRateSchedule | { className: string; config: Record<string, unknown> };

function rate(v: RateSpec | undefined, fallback: number): number | LearningRateSchedule {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return checkRate('learningRate', v, 0, Infinity, true);
  if (typeof (v as LearningRateSchedule).at === 'function') return v as LearningRateSchedule;
  return scheduleFromConfig(v as { className: string; config: Record<string, unknown> });
}

const serializeRate = (lr: number | LearningRateSchedule) => (typeof lr === 'number' ? lr : { className: lr.className, config: lr.getConfig() });

/** Where an update reads or writes n floats: the parameters and their state vectors (`slots`). */
export interface UpdateVectors {
  readonly p: number;
  readonly slots: readonly number[];
}

/**
 * Applies one update to n floats: reads the parameters and state vectors of `from` and the
 * gradients g, writes their new values to `to` (which may be `from`: in place).
 */
export function applyUpdate(k: KernelExports, u: OptimizerUpdate, from: UpdateVectors, g: number, to: UpdateVectors, n: number): void {
  if (n <= 0) return;
  if (u.kind === 'adam' || u.kind === 'adamw') {
    const [lrT, b1, c1, b2, c2, eps, keep] = u.args;
    k.adam_update(from.p, g, from.slots[0], from.slots[1], to.p, to.slots[0], to.slots[1], n, lrT, b1, c1, b2, c2, eps, keep);
  } else {
    const [lr, momentum, nesterov] = u.args;
    k.sgd_update(from.p, g, from.slots[0], to.p, to.slots[0], n, lr, momentum, nesterov);
  }
}

// The kernels compute in float32: a value is checked as the float32 it becomes (1e300 would be
// infinity there, 1e-50 zero).
function checkRate(what: string, v: number, lo: number, hi: number, openLo = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (openLo && v === lo)) {
    throw new ArgumentError(`simdnet: optimizer ${what} must be a number in ${openLo ? '(' : '['}${lo}, ${hi}], got ${v}`);
  }
  const f = Math.fround(v);
  if (!Number.isFinite(f) || (openLo && f === lo)) {
    throw new ArgumentError(`simdnet: optimizer ${what} ${v} is ${Number.isFinite(f) ? 'too small' : 'too large'} for float32, in which the kernels compute ` +
      '(from about 1.2e-38 to 3.4e38)');
  }
  return v;
}

export interface AdamArgs {
  /** A rate, or a schedule of the step count. Default 0.001. */
  learningRate?: number | LearningRateSchedule;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras's). */
  epsilon?: number;
}

/** Adam with Keras's defaults and update form (epsilon added to sqrt(v), bias correction in the rate). */
export class Adam implements Optimizer {
  readonly className: string = 'Adam';
  readonly slotNames = ['m', 'v'];
  iterations = 0;
  learningRate: number | LearningRateSchedule;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(args: AdamArgs = {}) {
    this.learningRate = rate(args.learningRate, 1e-3);
    this.beta1 = checkRate('beta1', args.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRate('beta2', args.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkRate('epsilon', args.epsilon ?? 1e-7, 0, Infinity);
  }

  nextUpdate(): OptimizerUpdate {
    const lr = rateAt(this.learningRate, this.iterations);
    const t = ++this.iterations;
    const lrT = lr * Math.sqrt(1 - this.beta2 ** t) / (1 - this.beta1 ** t);
    // The last argument is the weights' decay factor (AdamW's; 1 here).
    return { kind: 'adam', args: [lrT, this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2, this.epsilon, 1] };
  }

  /** Keras's config: the learning rate (or schedule) and the other settings. */
  getConfig(): Record<string, unknown> {
    return { learningRate: serializeRate(this.learningRate), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export interface AdamWArgs extends AdamArgs {
  /** Decoupled weight decay: each step multiplies the weights by 1 - learningRate * weightDecay. Default 0.004 (Keras's). */
  weightDecay?: number;
}

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter; Keras's AdamW): the decay shrinks every
 * trainable weight toward zero apart from the gradient's adaptive scaling.
 */
export class AdamW extends Adam {
  override readonly className = 'AdamW';
  readonly weightDecay: number;

  constructor(args: AdamWArgs = {}) {
    super(args);
    this.weightDecay = checkRate('weightDecay', args.weightDecay ?? 0.004, 0, 1);
  }

  override nextUpdate(): OptimizerUpdate {
    const lr = rateAt(this.learningRate, this.iterations);
    const u = super.nextUpdate();
    return { kind: 'adamw', args: [...u.args.slice(0, -1), 1 - lr * this.weightDecay] };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}

export interface SGDArgs {
  /** A rate, or a schedule of the step count. Default 0.01. */
  learningRate?: number | LearningRateSchedule;
  /** Default 0. */
  momentum?: number;
  /** Default false. */
  nesterov?: boolean;
}

/** Stochastic gradient descent with optional (Nesterov) momentum, Keras's form. */
export class SGD implements Optimizer {
  readonly className = 'SGD';
  readonly slotNames = ['momentum'];
  iterations = 0;
  learningRate: number | LearningRateSchedule;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(args: SGDArgs = {}) {
    this.learningRate = rate(args.learningRate, 0.01);
    this.momentum = checkRate('momentum', args.momentum ?? 0, 0, 1);
    this.nesterov = args.nesterov ?? false;
  }

  nextUpdate(): OptimizerUpdate {
    const lr = rateAt(this.learningRate, this.iterations++);
    return { kind: 'sgd', args: [lr, this.momentum, this.nesterov ? 1 : 0] };
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: serializeRate(this.learningRate), momentum: this.momentum, nesterov: this.nesterov };
  }
}

/** The optimizers by their Keras names. */
export const optimizers = {
  /** Adam (Keras's defaults: learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7). */
  adam: (args?: AdamArgs) => new Adam(args),
  /** AdamW: Adam with decoupled weight decay. */
  adamw: (args?: AdamWArgs) => new AdamW(args),
  /** SGD, with momentum and Nesterov as options. */
  sgd: (args?: SGDArgs) => new SGD(args),
};

export function getOptimizer(spec: 'adam' | 'sgd' | Optimizer): Optimizer {
  if (spec === 'adam') return new Adam();
  if (spec === 'sgd') return new SGD();
  if (spec && typeof spec === 'object' && typeof (spec as Optimizer).nextUpdate === 'function') return spec;
  throw new ArgumentError(`simdnet: unknown optimizer ${JSON.stringify(spec)} (expected "adam", "sgd" or an optimizer object)`);
}

export function optimizerFromConfig(className: string, config: Record<string, unknown>): Optimizer {
  if (className === 'Adam') return new Adam(config as AdamArgs);
  if (className === 'AdamW') return new AdamW(config as AdamWArgs);
  if (className === 'SGD') return new SGD(config as SGDArgs);
  throw new ArgumentError(`simdnet: unknown optimizer class "${className}"`);
}
