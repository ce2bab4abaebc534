// The tutorial's 3-layer ConvNet (part 1): CONV2D -> RELU -> MAXPOOL -> CONV2D -> RELU -> MAXPOOL
// -> FLATTEN -> FULLYCONNECTED, output logits (the tutorial fuses the softmax into the loss).

import { Activation } from '../layers/activation.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { standardizeImages } from '../layers/layer-normalization.js';
import { Flatten } from '../layers/flatten.js';
import { initializers } from '../layers/initializers.js';
import { input } from '../layers/input.js';
import { MaxPooling2D } from '../layers/pooling2d.js';
import { Model } from './model.js';
import type { TutorialModelArgs } from './tutorial-model-args.js';

/** Options of convNet. */
export type ConvNetArgs = TutorialModelArgs;

/** The tutorial's 3-layer ConvNet (part 1): CONV 4x4x8 same, ReLU, max pool 8; CONV 2x2x16 same, ReLU, max pool 4; flatten; dense to the classes (logits). */
export function convNet(args: ConvNetArgs = {}): Model {
  const seed = args.seed ?? 0;
  const glorot = initializers.glorotUniform({ seed });
  const x0 = input({ shape: args.inputShape ?? [64, 64, 3] });
  const xs = args.standardizeImages ? standardizeImages(x0) : x0;
  let x = new Conv2D({ filters: 8, kernelSize: 4, padding: 'same', useBias: false, kernelInitializer: glorot, name: 'W1' }).apply(xs);
  x = new Activation({ activation: 'relu' }).apply(x);
  x = new MaxPooling2D({ poolSize: 8, strides: 8, padding: 'same' }).apply(x);
  x = new Conv2D({ filters: 16, kernelSize: 2, padding: 'same', useBias: false, kernelInitializer: glorot, name: 'W2' }).apply(x);
  x = new Activation({ activation: 'relu' }).apply(x);
  x = new MaxPooling2D({ poolSize: 4, strides: 4, padding: 'same' }).apply(x);
  x = new Flatten().apply(x);
  if (args.dropout) x = new Dropout({ rate: args.dropout, name: 'dropout' }).apply(x);
  // The tutorial's fully_connected layer: glorot kernel, zero bias, no activation.
  const out = new Dense({ units: args.classes ?? 6, kernelInitializer: glorot, name: 'fc' }).apply(x);
  return new Model({ inputs: x0, outputs: out, name: 'ConvNet', runtime: args.runtime });
}
