// The two models of the tutorial with the settings it trains them with.

import { convNet } from '../models/convnet.js';
import { resNet50 } from '../models/resnet50.js';
import type { Model } from '../models/model.js';
import { Adam } from '../training/optimizers.js';
import type { LossSpec } from '../training/losses.js';
import { UsageError } from './options.js';

export interface Recipe {
  name: 'convnet' | 'resnet50';
  title: string;
  modelName: string; // the Model's name, as saved in files
  // The model for `classes` classes of images of `imageSize` (SIGNS: 6 and 64).
  build(seed: number, shape?: { classes?: number; imageSize?: number }): Model;
  epochs: number;
  batchSize: number;
  learningRate: number;
  adamEpsilon: number;
  loss: LossSpec;
  // What the article reports, for the comparison table.
  article: { trainAccuracy: number; testAccuracy: number; secondsPerEpoch?: number };
}

const inputShapeOf = (size?: number) => (size === undefined ? undefined : [size, size, 3]);

export const recipes: Record<string, Recipe> = {
  convnet: {
    name: 'convnet', title: '3-layer ConvNet (part 1)', modelName: 'ConvNet', build: (seed, shape = {}) => convNet({ seed, classes: shape.classes, inputShape: inputShapeOf(shape.imageSize) }),
    // TensorFlow 1's AdamOptimizer, which the tutorial used: epsilon 1e-8.
    epochs: 100, batchSize: 64, learningRate: 0.009, adamEpsilon: 1e-8, loss: 'softmaxCrossEntropy',
    article: { trainAccuracy: 0.894444, testAccuracy: 0.841667 },
  },
  resnet50: {
    name: 'resnet50', title: 'ResNet-50 (part 2)', modelName: 'ResNet50', build: (seed, shape = {}) => resNet50({ seed, classes: shape.classes, inputShape: inputShapeOf(shape.imageSize) }),
    epochs: 20, batchSize: 32, learningRate: 0.001, adamEpsilon: 1e-7, loss: 'categoricalCrossentropy',
    // The article's last epoch ran at 0.9556 training accuracy (Keras's running, training-mode figure).
    article: { trainAccuracy: 0.9556, testAccuracy: 0.891667, secondsPerEpoch: 140 },
  },
};

export function recipe(name: string | undefined): Recipe {
  if (name === undefined) throw new UsageError('--model is required (convnet or resnet50)');
  const r = Object.hasOwn(recipes, name.toLowerCase()) ? recipes[name.toLowerCase()] : undefined;
  if (!r) throw new UsageError(`unknown model "${name}" (expected convnet or resnet50)`);
  return r;
}

export function compileRecipe(model: Model, r: Recipe, learningRate: number): void {
  model.compile({ optimizer: new Adam({ learningRate, epsilon: r.adamEpsilon }), loss: r.loss, metrics: ['accuracy'] });
}
