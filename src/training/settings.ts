// How a run trains beyond its model, optimizer rate and minibatch: what `train --recipe` and
// its flags choose, and what a model file keeps so that `--resume` goes on the same way.

export interface TrainingSettings {
  augment: boolean;          // augment the training images (with `augmentation`, default ROBUST_AUGMENTATION)
  augmentation?: object;     // the AugmentationOptions (src/data/augmentation.ts)
  schedule: 'none' | 'cosine'; // cosine decay to 0 after a warm-up of warmupEpochs
  warmupEpochs: number;
  labelSmoothing: number;
  weightDecay: number;       // AdamW's decoupled weight decay (0: Adam)
  dropout: number;           // before the classifier
  standardizeImages?: boolean; // the model standardizes each image first (its brightness and contrast no longer matter)
  preciseBn: boolean;        // recompute batch-norm statistics after every epoch (~512 images) and at the end (every batch)
  validationSplit: number;   // held out for model selection; the best epoch's weights are kept
  epochs: number;
  learningRate?: number;
  batchSize?: number;        // the recipe's minibatch when not the tutorial's
}
