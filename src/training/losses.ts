// Losses. Both are the softmax cross-entropy, mean over the batch: `categoricalCrossentropy`
// takes a model whose output is a softmax (Keras's default pairing, computed from the logits
// for stability, as TensorFlow does), `softmaxCrossEntropy` a model that outputs logits.

export type LossName = 'categoricalCrossentropy' | 'softmaxCrossEntropy';

export function checkLoss(loss: unknown): LossName {
  if (loss === 'categoricalCrossentropy' || loss === 'categorical_crossentropy') return 'categoricalCrossentropy';
  if (loss === 'softmaxCrossEntropy') return 'softmaxCrossEntropy';
  throw new Error(`simdnet: unknown loss ${JSON.stringify(loss)} (expected "categoricalCrossentropy" or "softmaxCrossEntropy")`);
}

// Softmax of each row of [n, K] logits, in double precision.
export function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / K; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[r * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[r * K + k] - m);
    for (let k = 0; k < K; k++) out[r * K + k] = Math.exp(logits[r * K + k] - m) / s;
  }
  return out;
}
