// The same two models in TensorFlow.js (tfjs-layers), for measuring it side by side.

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type T = tfl.SymbolicTensor;
const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;

export function tfjsConvNet(): tfl.LayersModel {
  const x0 = tfl.input({ shape: [64, 64, 3] });
  let x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 4, padding: 'same', useBias: false }), x0);
  x = apply(tfl.layers.activation({ activation: 'relu' }), x);
  x = apply(tfl.layers.maxPooling2d({ poolSize: 8, strides: 8, padding: 'same' }), x);
  x = apply(tfl.layers.conv2d({ filters: 16, kernelSize: 2, padding: 'same', useBias: false }), x);
  x = apply(tfl.layers.activation({ activation: 'relu' }), x);
  x = apply(tfl.layers.maxPooling2d({ poolSize: 4, strides: 4, padding: 'same' }), x);
  x = apply(tfl.layers.flatten(), x);
  const out = apply(tfl.layers.dense({ units: 6 }), x);
  const model = tfl.model({ inputs: x0, outputs: out });
  model.compile({ optimizer: tf.train.adam(0.009), loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p) });
  return model;
}

function block(x: T, f: number, filters: number[], stage: number, name: string, s: number, shortcutConv: boolean): T {
  const [F1, F2, F3] = filters;
  const c = `res${stage}${name}_branch`, b = `bn${stage}${name}_branch`;
  let shortcut = x;
  x = apply(tfl.layers.conv2d({ filters: F1, kernelSize: 1, strides: s, name: `${c}2a` }), x);
  x = apply(tfl.layers.activation({ activation: 'relu' }), apply(tfl.layers.batchNormalization({ axis: 3, name: `${b}2a` }), x));
  x = apply(tfl.layers.conv2d({ filters: F2, kernelSize: f, padding: 'same', name: `${c}2b` }), x);
  x = apply(tfl.layers.activation({ activation: 'relu' }), apply(tfl.layers.batchNormalization({ axis: 3, name: `${b}2b` }), x));
  x = apply(tfl.layers.conv2d({ filters: F3, kernelSize: 1, name: `${c}2c` }), x);
  x = apply(tfl.layers.batchNormalization({ axis: 3, name: `${b}2c` }), x);
  if (shortcutConv) {
    shortcut = apply(tfl.layers.conv2d({ filters: F3, kernelSize: 1, strides: s, name: `${c}1` }), shortcut);
    shortcut = apply(tfl.layers.batchNormalization({ axis: 3, name: `${b}1` }), shortcut);
  }
  return apply(tfl.layers.activation({ activation: 'relu' }), apply(tfl.layers.add(), [x, shortcut]));
}

export function tfjsResNet50(): tfl.LayersModel {
  const x0 = tfl.input({ shape: [64, 64, 3] });
  let x = apply(tfl.layers.zeroPadding2d({ padding: [3, 3] }), x0);
  x = apply(tfl.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu' }), apply(tfl.layers.batchNormalization({ axis: 3, name: 'bn_conv1' }), x));
  x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }), x);
  const stages: [number, number[], number, number][] = [[2, [64, 64, 256], 3, 1], [3, [128, 128, 512], 4, 2], [4, [256, 256, 1024], 6, 2], [5, [512, 512, 2048], 3, 2]];
  for (const [stage, filters, blocks, s] of stages) {
    for (let i = 0; i < blocks; i++) x = block(x, 3, filters, stage, 'abcdef'[i], i === 0 ? s : 1, i === 0);
  }
  x = apply(tfl.layers.averagePooling2d({ poolSize: 2, name: 'avg_pool' }), x);
  x = apply(tfl.layers.flatten(), x);
  const out = apply(tfl.layers.dense({ units: 6, activation: 'softmax', name: 'fc6' }), x);
  const model = tfl.model({ inputs: x0, outputs: out });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  return model;
}
