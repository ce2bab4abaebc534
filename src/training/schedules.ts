// Learning-rate schedules, as Keras defines them: a function of the optimizer's step count (the
// number of updates applied before this one), serializable as {className, config}.

import { ArgumentError, describe } from '../errors.js';

export interface LearningRateSchedule {
  readonly className: string;
  at(step: number): number;
  getConfig(): Record<string, number | boolean | number[]>;
}

const positive = (what: string, v: unknown) => {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ArgumentError(`${what} must be a positive number, got ${describe(v)}`);
  return v;
};

export interface CosineDecayArgs {
  /** The rate at step 0 (the start of the warm-up). Required. */
  initialLearningRate: number;
  /** Steps of the cosine decay (after the warm-up). Required. */
  decaySteps: number;
  /** The floor, as a fraction of the decay's starting rate. Default 0. */
  alpha?: number;
  /** Steps of linear warm-up from initialLearningRate to warmupTarget. Default 0. */
  warmupSteps?: number;
  /** The rate the warm-up reaches and the decay starts from. Default: initialLearningRate (no warm-up). */
  warmupTarget?: number;
}

/** Keras's CosineDecay (with its optional linear warm-up). */
export class CosineDecay implements LearningRateSchedule {
  readonly className = 'CosineDecay';
  constructor(readonly args: CosineDecayArgs) {
    positive('initialLearningRate', args.initialLearningRate);
    positive('decaySteps', args.decaySteps);
    if (args.alpha !== undefined && !(args.alpha >= 0 && args.alpha <= 1)) throw new ArgumentError(`alpha must be in [0, 1], got ${describe(args.alpha)}`);
  }
  at(step: number): number {
    const { initialLearningRate: lr0, decaySteps, alpha = 0, warmupSteps = 0, warmupTarget } = this.args;
    const target = warmupTarget ?? lr0;
    if (warmupTarget !== undefined && step < warmupSteps) return lr0 + (target - lr0) * (step / warmupSteps);
    const s = Math.min(Math.max(step - (warmupTarget !== undefined ? warmupSteps : 0), 0), decaySteps);
    return target * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * s) / decaySteps)) + alpha);
  }
  getConfig() { return { ...this.args } as Record<string, number>; }
}

export interface ExponentialDecayArgs { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean }

/** Keras's ExponentialDecay: lr0 * rate ^ (step / decaySteps), floored when `staircase` (step decay). */
export class ExponentialDecay implements LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  constructor(readonly args: ExponentialDecayArgs) {
    positive('initialLearningRate', args.initialLearningRate);
    positive('decaySteps', args.decaySteps);
    positive('decayRate', args.decayRate);
  }
  at(step: number): number {
    const p = step / this.args.decaySteps;
    return this.args.initialLearningRate * this.args.decayRate ** (this.args.staircase ? Math.floor(p) : p);
  }
  getConfig() { return { ...this.args } as Record<string, number | boolean>; }
}

export interface PiecewiseConstantDecayArgs { boundaries: number[]; values: number[] }

/** Keras's PiecewiseConstantDecay: values[i] while step <= boundaries[i] (step decay at set steps). */
export class PiecewiseConstantDecay implements LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  constructor(readonly args: PiecewiseConstantDecayArgs) {
    if (!Array.isArray(args.boundaries) || !Array.isArray(args.values) || args.values.length !== args.boundaries.length + 1) {
      throw new ArgumentError('PiecewiseConstantDecay needs one more value than boundaries');
    }
  }
  at(step: number): number {
    const i = this.args.boundaries.findIndex((b) => step <= b);
    return this.args.values[i < 0 ? this.args.values.length - 1 : i];
  }
  getConfig() { return { ...this.args }; }
}

export const schedules = {
  cosineDecay: (a: CosineDecayArgs) => new CosineDecay(a),
  exponentialDecay: (a: ExponentialDecayArgs) => new ExponentialDecay(a),
  piecewiseConstantDecay: (a: PiecewiseConstantDecayArgs) => new PiecewiseConstantDecay(a),
};

export function scheduleFromConfig(c: { className: string; config: Record<string, unknown> }): LearningRateSchedule {
  switch (c?.className) {
    case 'CosineDecay': return new CosineDecay(c.config as unknown as CosineDecayArgs);
    case 'ExponentialDecay': return new ExponentialDecay(c.config as unknown as ExponentialDecayArgs);
    case 'PiecewiseConstantDecay': return new PiecewiseConstantDecay(c.config as unknown as PiecewiseConstantDecayArgs);
    default: throw new ArgumentError(`unknown learning-rate schedule ${describe(c?.className)}`);
  }
}
