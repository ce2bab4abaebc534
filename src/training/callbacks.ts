// Training callbacks (tfjs-layers style, camelCase, may return promises) and the History.

import { ArgumentError, describe } from '../errors.js';
import type { Optimizer } from './optimizers.js';

/** A pass's figures by name: loss, accuracy, val_loss, ... */
export type Logs = Record<string, number>;

/** What a callback may do to the model it is given (Model has all of this). */
export interface CallbackModel {
  stopTraining: boolean;
  optimizer?: Optimizer;
  getWeights(): Record<string, { data: Float32Array }>;
  setWeights(weights: Record<string, Float32Array>): void;
}

/** Hooks called during fit, as Keras's callbacks (every method optional). */
export interface Callback {
  /** Called by fit before training, with the model being trained. */
  setModel?(model: CallbackModel): void;
  /** Before the first epoch. */
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  /** After the last epoch, with its logs. */
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /** Before each epoch. */
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /** After each epoch, with its loss and metrics (and the validation ones). */
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  /** Before each batch. */
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** After each batch, with its loss. */
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

/**
 * What fit returns: the epoch numbers and, per metric, one value per epoch
 * (loss, accuracy, val_loss, val_accuracy, and the epoch's wall time in seconds).
 */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};

  /** A history continued from an earlier run's: its epochs first, then this one's. */
  static concat(before: Record<string, number[]>, after: History): History {
    const h = new History();
    const n = (before.loss ?? []).length;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after.history)])];
    for (let i = 0; i < n + after.epoch.length; i++) {
      h.record(i, Object.fromEntries(keys.map((k) => [k, i < n ? before[k]?.[i] : after.history[k]?.[i - n]]).filter(([, v]) => v !== undefined)) as Logs);
    }
    return h;
  }

  /** Adds an epoch's logs. */
  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }

  /** The history as JSON (epochs and each figure's list). */
  toJSON() {
    return { epoch: this.epoch, history: this.history };
  }

  /** The history as CSV, one row per epoch. */
  toCSV(): string {
    const keys = Object.keys(this.history);
    const rows = this.epoch.map((e, i) => [String(e), ...keys.map((k) => String(this.history[k][i] ?? ''))].join(','));
    return [['epoch', ...keys].join(','), ...rows].join('\n') + '\n';
  }
}

export async function callAll(callbacks: Callback[], event: keyof Callback, ...args: unknown[]): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[event] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (fn) await fn.apply(cb, args);
  }
}

/**
 * Keras's LearningRateScheduler: sets the optimizer's rate at the start of each epoch to
 * schedule(epoch, current rate).
 */
export class LearningRateScheduler implements Callback {
  private model?: CallbackModel;
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    if (typeof schedule !== 'function') throw new ArgumentError('LearningRateScheduler takes a function (epoch, lr) => lr');
  }
  setModel(model: CallbackModel): void { this.model = model; }
  onEpochBegin(epoch: number): void {
    const opt = this.model?.optimizer;
    if (!opt) return;
    const current = typeof opt.learningRate === 'number' ? opt.learningRate : opt.learningRate.at(opt.iterations);
    const next = this.schedule(epoch, current);
    if (typeof next !== 'number' || !(next > 0) || !Number.isFinite(next)) throw new ArgumentError(`LearningRateScheduler: the schedule gave ${describe(next)} for epoch ${epoch}`);
    opt.learningRate = next;
  }
}

/** Whether `value` improves on `best` for a monitored quantity (lower losses, higher accuracies). */
export function improves(monitor: string, mode: 'auto' | 'min' | 'max', value: number, best: number, minDelta = 0): boolean {
  const max = mode === 'max' || (mode === 'auto' && /acc/.test(monitor));
  return max ? value > best + minDelta : value < best - minDelta;
}

export interface EarlyStoppingArgs {
  /** The quantity watched. Default 'val_loss'. */
  monitor?: string;
  /** The smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Epochs without improvement before training stops. Default 0. */
  patience?: number;
  /** 'min', 'max', or 'auto' (max for accuracies). Default 'auto'. */
  mode?: 'auto' | 'min' | 'max';
  /** Put back the weights of the best epoch when training stops. Default false. */
  restoreBestWeights?: boolean;
}

/** Keras's EarlyStopping. */
export class EarlyStopping implements Callback {
  private model?: CallbackModel;
  private best = NaN;
  private wait = 0;
  private bestWeights?: Record<string, Float32Array>;
  stoppedEpoch = -1;
  bestEpoch = -1;
  readonly monitor: string;

  constructor(private readonly args: EarlyStoppingArgs = {}) {
    this.monitor = args.monitor ?? 'val_loss';
    if (args.patience !== undefined && !(Number.isInteger(args.patience) && args.patience >= 0)) throw new ArgumentError(`EarlyStopping patience must be a whole number, got ${describe(args.patience)}`);
  }
  setModel(model: CallbackModel): void { this.model = model; }
  onTrainBegin(): void { this.best = NaN; this.wait = 0; this.bestWeights = undefined; this.stoppedEpoch = -1; this.bestEpoch = -1; }
  onEpochEnd(epoch: number, logs?: Logs): void {
    const v = logs?.[this.monitor];
    if (v === undefined) throw new ArgumentError(`EarlyStopping monitors "${this.monitor}", which fit does not report (it reports ${Object.keys(logs ?? {}).join(', ')})`);
    if (Number.isNaN(this.best) || improves(this.monitor, this.args.mode ?? 'auto', v, this.best, this.args.minDelta ?? 0)) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.args.restoreBestWeights && this.model) this.bestWeights = Object.fromEntries(Object.entries(this.model.getWeights()).map(([k, t]) => [k, t.data]));
      return;
    }
    // As Keras counts: stop once `patience` epochs in a row have not improved.
    if (++this.wait >= (this.args.patience ?? 0) && epoch > 0) {
      this.stoppedEpoch = epoch;
      if (this.model) this.model.stopTraining = true;
    }
  }
  onTrainEnd(): void {
    if (this.args.restoreBestWeights && this.bestWeights && this.model && this.stoppedEpoch >= 0) this.model.setWeights(this.bestWeights);
  }
}
