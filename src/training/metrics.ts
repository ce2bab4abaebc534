import { ArgumentError } from '../errors.js';
// Metrics over a batch of predictions [n, K] and one-hot (or soft) labels [n, K].

export type MetricName = 'accuracy';

export function checkMetrics(metrics: unknown): MetricName[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new ArgumentError('simdnet: metrics must be a list, e.g. ["accuracy"]');
  return metrics.map((m) => {
    if (m === 'accuracy' || m === 'acc') return 'accuracy';
    throw new ArgumentError(`simdnet: unknown metric ${JSON.stringify(m)} (expected "accuracy")`);
  });
}

export function argmaxRow(a: ArrayLike<number>, row: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (a[row * K + k] > a[row * K + best]) best = k;
  return best;
}

/** Number of rows whose largest prediction is at the largest label (categorical accuracy). */
export function countCorrect(pred: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number): number {
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmaxRow(pred, i, K) === argmaxRow(labels, i, K)) correct++;
  return correct;
}

/** counts[true][predicted] over n rows. */
export function confusionMatrix(pred: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number): number[][] {
  const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < n; i++) m[argmaxRow(labels, i, K)][argmaxRow(pred, i, K)]++;
  return m;
}

/** Accuracy of each true class (NaN for a class with no rows). */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, k) => row[k] / row.reduce((a, b) => a + b, 0));
}
