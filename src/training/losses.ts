// Losses. A loss object holds everything about one loss in one place: the kernel the training
// step runs (loss and the gradient of the logits), the evaluation of model outputs, and what it
// expects of the model's output layer.

import { ArgumentError, describe } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';

/** A loss: its value and its gradient with respect to the model's output. */
export interface Loss {
  readonly className: string;
  /**
   * Whether the model outputs logits; otherwise its output layer applies the softmax, and the
   * training step reads the logits that layer was fed (fused, as TensorFlow does).
   */
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  /** Labels of one batch [rows, K], in place, as the loss sees them (label smoothing). */
  prepareLabels(labels: Float32Array, K: number): void;
  /**
   * The training kernel: writes the gradient of (sum of row losses) x scale with respect to the
   * logits [rows, K] to `dlogits`, the probabilities to `probs`; returns the sum of row losses x scale.
   */
  forwardBackward(k: KernelExports, logits: number, labels: number, rows: number, K: number, scale: number, probs: number, dlogits: number): number;
  /** Mean loss of model outputs (probabilities, or logits when fromLogits) against labels. */
  evaluate(outputs: Float32Array, labels: Float32Array, n: number, K: number): number;
  /** Keras's loss config, for model files. */
  getConfig(): Record<string, unknown>;
  /** The name compile() was given, when it was given one. */
  readonly name?: string;
}

/** Options of CategoricalCrossentropy. */
export interface CategoricalCrossentropyArgs {
  /** Whether the model outputs logits rather than softmax probabilities. Default false. */
  fromLogits?: boolean;
  /** Mixes each one-hot label with the uniform distribution: y (1 - s) + s / classes. Default 0. */
  labelSmoothing?: number;
}

/** Softmax cross-entropy, the mean over the batch: Keras's CategoricalCrossentropy. */
export class CategoricalCrossentropy implements Loss {
  readonly className = 'CategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;

  constructor(args: CategoricalCrossentropyArgs = {}, readonly name?: string) {
    this.fromLogits = args.fromLogits ?? false;
    this.labelSmoothing = args.labelSmoothing ?? 0;
    if (typeof this.fromLogits !== 'boolean') throw new ArgumentError(`loss: fromLogits must be true or false, got ${describe(args.fromLogits)}`);
    if (typeof this.labelSmoothing !== 'number' || !(this.labelSmoothing >= 0 && this.labelSmoothing < 1)) {
      throw new ArgumentError(`loss: labelSmoothing must be a number in [0, 1), got ${describe(args.labelSmoothing)}`);
    }
  }

  prepareLabels(labels: Float32Array, K: number): void {
    const s = this.labelSmoothing;
    if (s === 0) return;
    for (let i = 0; i < labels.length; i++) labels[i] = labels[i] * (1 - s) + s / K;
  }

  forwardBackward(k: KernelExports, logits: number, labels: number, rows: number, K: number, scale: number, probs: number, dlogits: number): number {
    return k.softmax_xent(logits, labels, rows, K, scale, probs, dlogits);
  }

  evaluate(outputs: Float32Array, labels: Float32Array, n: number, K: number): number {
    const y = labels.slice(0, n * K);
    this.prepareLabels(y, K);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = outputs.subarray(i * K, (i + 1) * K);
      const logZ = this.fromLogits ? logSumExp(row) : 0;
      for (let k = 0; k < K; k++) {
        const t = y[i * K + k];
        if (t === 0) continue;
        // Keras clips probabilities to [1e-7, 1 - 1e-7] before the log.
        const logp = this.fromLogits ? row[k] - logZ : Math.log(Math.min(Math.max(row[k], 1e-7), 1 - 1e-7));
        loss -= t * logp;
      }
    }
    return loss / n;
  }

  /** Keras's config: fromLogits and labelSmoothing. */
  getConfig() {
    return { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing };
  }
}

function logSumExp(row: Float32Array): number {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return m + Math.log(s);
}

/** The losses by their Keras names. */
export const losses = {
  /** Categorical cross-entropy on one-hot labels. */
  categoricalCrossentropy: (args?: CategoricalCrossentropyArgs) => new CategoricalCrossentropy(args),
};

/**
 * What compile() takes: a loss object, or a name: "categoricalCrossentropy" (a softmax output
 * layer, Keras's default pairing) or "softmaxCrossEntropy" (a model that outputs logits).
 */
export type LossSpec = 'categoricalCrossentropy' | 'categorical_crossentropy' | 'softmaxCrossEntropy' | Loss;

export function getLoss(spec: unknown): Loss {
  if (spec === 'categoricalCrossentropy' || spec === 'categorical_crossentropy') return new CategoricalCrossentropy({}, 'categoricalCrossentropy');
  if (spec === 'softmaxCrossEntropy') return new CategoricalCrossentropy({ fromLogits: true }, 'softmaxCrossEntropy');
  if (spec && typeof spec === 'object' && typeof (spec as Loss).forwardBackward === 'function') return spec as Loss;
  throw new ArgumentError(`unknown loss ${describe(spec)} (expected "categoricalCrossentropy", "softmaxCrossEntropy" or a loss object)`);
}

/** A loss as Keras's training_config keeps it: its name, or {className, config}. */
export function serializeLoss(loss: Loss): string | { className: string; config: Record<string, unknown> } {
  return loss.name ?? { className: loss.className, config: loss.getConfig() };
}

export function lossFromConfig(cfg: unknown): Loss {
  if (typeof cfg === 'string') return getLoss(cfg);
  const c = cfg as { className?: string; class_name?: string; config?: CategoricalCrossentropyArgs };
  const className = c?.className ?? c?.class_name;
  if (className === 'CategoricalCrossentropy') return new CategoricalCrossentropy(c.config ?? {});
  throw new ArgumentError(`unknown loss ${describe(cfg)} (expected CategoricalCrossentropy)`);
}

/** Softmax of each row of [n, K] logits, in double precision. */
export function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / K; r++) {
    const row = logits.subarray(r * K, (r + 1) * K);
    const logZ = logSumExp(row);
    for (let k = 0; k < K; k++) out[r * K + k] = Math.exp(row[k] - logZ);
  }
  return out;
}
