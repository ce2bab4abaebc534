// Confidence that means something: temperature scaling (Guo et al. 2017) fitted on held-out
// images, and the expected calibration error that says how far a model's confidence is from its
// accuracy. Probabilities are rows of K; labels are one-hot rows of K.

import { ArgumentError } from '../errors.js';

/**
 * Probabilities at temperature T: softmax(logits / T) from the model's probabilities p (taken as
 * softmax(logits)): p^(1/T), renormalized. T > 1 softens, T < 1 sharpens, 1 leaves them.
 */
export function withTemperature(probs: Float32Array, K: number, T: number): Float32Array {
  if (T === 1) return probs;
  const out = new Float32Array(probs.length);
  for (let r = 0; r < probs.length / K; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.log(Math.max(probs[r * K + k], 1e-38)) / T);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += (out[r * K + k] = Math.exp(Math.log(Math.max(probs[r * K + k], 1e-38)) / T - max));
    for (let k = 0; k < K; k++) out[r * K + k] /= sum;
  }
  return out;
}

function negativeLogLikelihood(probs: Float32Array, labels: Float32Array, K: number, T: number): number {
  const p = withTemperature(probs, K, T);
  let nll = 0;
  for (let i = 0; i < p.length; i++) if (labels[i] > 0) nll -= labels[i] * Math.log(Math.max(p[i], 1e-38));
  return nll / (p.length / K);
}

/**
 * The temperature in [0.05, 20] that minimises the negative log-likelihood of `labels` under
 * `probs` (golden-section search on log T; the likelihood is unimodal in it). Accuracy does not
 * change with T: only the confidence does.
 */
export function fitTemperature(probs: Float32Array, labels: Float32Array, K: number): number {
  if (probs.length === 0 || probs.length !== labels.length || probs.length % K !== 0) {
    throw new ArgumentError(`fitTemperature needs probabilities and one-hot labels of the same (N, ${K}) shape, N >= 1`);
  }
  const f = (logT: number) => negativeLogLikelihood(probs, labels, K, Math.exp(logT));
  let a = Math.log(0.05), b = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a), fc = f(c), fd = f(d);
  for (let i = 0; i < 60; i++) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c); } else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d); }
  }
  return Math.exp((a + b) / 2);
}

/**
 * Expected calibration error: rows binned by their top probability into `bins` equal-width bins;
 * the mean over rows of |accuracy - mean confidence| of each row's bin. 0 for a calibrated model.
 */
export function expectedCalibrationError(probs: Float32Array, labels: Float32Array, K: number, bins = 15): number {
  const n = probs.length / K;
  const conf = new Float64Array(bins), acc = new Float64Array(bins), count = new Float64Array(bins);
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (let j = 1; j < K; j++) if (probs[r * K + j] > probs[r * K + k]) k = j;
    const p = probs[r * K + k];
    const b = Math.min(bins - 1, Math.floor(p * bins));
    conf[b] += p; acc[b] += labels[r * K + k] > 0.5 ? 1 : 0; count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(acc[b] - conf[b]);
  return ece / n;
}
