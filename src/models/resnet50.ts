// The tutorial's ResNet-50 (part 2), with its Keras layer names: zero padding 3, conv1 7x7/2,
// bn_conv1, relu, max pool 3x3/2, stages 2-5 of convolutional and identity bottleneck blocks,
// average pool 2x2, flatten, fc{classes} with softmax.

import { Activation } from '../layers/activation.js';
import { Add } from '../layers/add.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { standardizeImages } from '../layers/layer-normalization.js';
import { Flatten } from '../layers/flatten.js';
import { initializers, type Initializer } from '../layers/initializers.js';
import { input } from '../layers/input.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import { ZeroPadding2D } from '../layers/zero-padding2d.js';
import { Model } from './model.js';
import type { TutorialModelArgs } from './tutorial-model-args.js';

const relu = (x: SymbolicTensor) => new Activation({ activation: 'relu' }).apply(x);
const bn = (name: string, x: SymbolicTensor) => new BatchNormalization({ axis: 3, name }).apply(x);

/** The block whose shortcut is the input itself: three convolutions (1x1, fxf same, 1x1). */
export function identityBlock(x: SymbolicTensor, f: number, filters: [number, number, number], stage: number, block: string,
  init: Initializer = initializers.glorotUniform()): SymbolicTensor {
  const conv = `res${stage}${block}_branch`, norm = `bn${stage}${block}_branch`;
  const [F1, F2, F3] = filters;
  const shortcut = x;
  x = new Conv2D({ filters: F1, kernelSize: 1, strides: 1, padding: 'valid', name: `${conv}2a`, kernelInitializer: init }).apply(x);
  x = relu(bn(`${norm}2a`, x));
  x = new Conv2D({ filters: F2, kernelSize: f, strides: 1, padding: 'same', name: `${conv}2b`, kernelInitializer: init }).apply(x);
  x = relu(bn(`${norm}2b`, x));
  x = new Conv2D({ filters: F3, kernelSize: 1, strides: 1, padding: 'valid', name: `${conv}2c`, kernelInitializer: init }).apply(x);
  x = bn(`${norm}2c`, x);
  return relu(new Add().apply([x, shortcut]));
}

/** The block that changes shape: the shortcut is a strided 1x1 convolution with batch norm. */
export function convolutionalBlock(x: SymbolicTensor, f: number, filters: [number, number, number], stage: number, block: string,
  s = 2, init: Initializer = initializers.glorotUniform()): SymbolicTensor {
  const conv = `res${stage}${block}_branch`, norm = `bn${stage}${block}_branch`;
  const [F1, F2, F3] = filters;
  let shortcut = x;
  x = new Conv2D({ filters: F1, kernelSize: 1, strides: s, padding: 'valid', name: `${conv}2a`, kernelInitializer: init }).apply(x);
  x = relu(bn(`${norm}2a`, x));
  x = new Conv2D({ filters: F2, kernelSize: f, strides: 1, padding: 'same', name: `${conv}2b`, kernelInitializer: init }).apply(x);
  x = relu(bn(`${norm}2b`, x));
  x = new Conv2D({ filters: F3, kernelSize: 1, strides: 1, padding: 'valid', name: `${conv}2c`, kernelInitializer: init }).apply(x);
  x = bn(`${norm}2c`, x);
  shortcut = new Conv2D({ filters: F3, kernelSize: 1, strides: s, padding: 'valid', name: `${conv}1`, kernelInitializer: init }).apply(shortcut);
  shortcut = bn(`${norm}1`, shortcut);
  return relu(new Add().apply([x, shortcut]));
}

/** Options of resNet50. */
export type ResNet50Args = TutorialModelArgs;

/** The tutorial's ResNet-50 (part 2) with its Keras layer names: 23,600,006 parameters at 64x64 with 6 classes. */
export function resNet50(args: ResNet50Args = {}): Model {
  const classes = args.classes ?? 6;
  const init = initializers.glorotUniform({ seed: args.seed ?? 0 });
  const xIn = input({ shape: args.inputShape ?? [64, 64, 3] });
  const xs = args.standardizeImages ? standardizeImages(xIn) : xIn;
  let x = new ZeroPadding2D({ padding: [3, 3] }).apply(xs);
  x = new Conv2D({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1', kernelInitializer: init }).apply(x);
  x = relu(bn('bn_conv1', x));
  x = new MaxPooling2D({ poolSize: 3, strides: 2 }).apply(x);

  x = convolutionalBlock(x, 3, [64, 64, 256], 2, 'a', 1, init);
  for (const b of ['b', 'c']) x = identityBlock(x, 3, [64, 64, 256], 2, b, init);
  x = convolutionalBlock(x, 3, [128, 128, 512], 3, 'a', 2, init);
  for (const b of ['b', 'c', 'd']) x = identityBlock(x, 3, [128, 128, 512], 3, b, init);
  x = convolutionalBlock(x, 3, [256, 256, 1024], 4, 'a', 2, init);
  for (const b of ['b', 'c', 'd', 'e', 'f']) x = identityBlock(x, 3, [256, 256, 1024], 4, b, init);
  x = convolutionalBlock(x, 3, [512, 512, 2048], 5, 'a', 2, init);
  for (const b of ['b', 'c']) x = identityBlock(x, 3, [512, 512, 2048], 5, b, init);

  x = new AveragePooling2D({ poolSize: 2, name: 'avg_pool' }).apply(x);
  x = new Flatten().apply(x);
  if (args.dropout) x = new Dropout({ rate: args.dropout, name: 'dropout' }).apply(x);
  const out = new Dense({ units: classes, activation: 'softmax', name: `fc${classes}`, kernelInitializer: init }).apply(x);
  return new Model({ inputs: xIn, outputs: out, name: 'ResNet50', runtime: args.runtime });
}
