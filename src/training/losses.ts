// Losses. Both are the softmax cross-entropy, mean over the batch: `categoricalCrossentropy`
// takes a model whose output is a softmax (Keras's default pairing, computed from the logits
// for stability, as TensorFlow does), `softmaxCrossEntropy` a model that outputs logits.

export type LossName = 'categoricalCrossentropy' | 'softmaxCrossEntropy';

export function checkLoss(loss: unknown): LossName {
  if (loss === 'categoricalCrossentropy' || loss === 'categorical_crossentropy') return 'categoricalCrossentropy';
  if (loss === 'softmaxCrossEntropy') return 'softmaxCrossEntropy';
  throw new Error(`simdnet: unknown loss ${JSON.stringify(loss)} (expected "categoricalCrossentropy" or "softmaxCrossEntropy")`);
}
