// Training callbacks (tfjs-layers style, camelCase, may return promises) and the History.

export type Logs = Record<string, number>;

export interface Callback {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

// What fit returns: the epoch numbers and, per metric, one value per epoch
// (loss, accuracy, val_loss, val_accuracy, and the epoch's wall time in seconds).
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};

  // A history continued from an earlier run's: its epochs first, then this one's.
  static concat(before: Record<string, number[]>, after: History): History {
    const h = new History();
    const n = (before.loss ?? []).length;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after.history)])];
    for (let i = 0; i < n + after.epoch.length; i++) {
      h.record(i, Object.fromEntries(keys.map((k) => [k, i < n ? before[k]?.[i] : after.history[k]?.[i - n]]).filter(([, v]) => v !== undefined)) as Logs);
    }
    return h;
  }

  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }

  toJSON() {
    return { epoch: this.epoch, history: this.history };
  }

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
