import { describe, test } from 'vitest';
import {
  Activation, Add, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D,
  GlobalMaxPooling2D, initializers, LayerNormalization, MaxPooling2D, ReLU, ZeroPadding2D, type Layer, type SymbolicTensor,
} from '../../src/index.js';
import { checkConfigRoundTrip, checkGradients, checkOutputShape, type LayerCase } from './layer-check.js';

const one = (layer: Layer) => (x: SymbolicTensor) => ({ out: layer.apply(x), layer });

const cases: Record<string, () => LayerCase> = {
  'Conv2D 3x3 valid': () => ({ build: one(new Conv2D({ filters: 4, kernelSize: 3 })), inputShape: [6, 6, 2], outputShape: [4, 4, 4] }),
  'Conv2D 2x2 same, stride 2, relu, one channel': () => ({
    build: one(new Conv2D({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', activation: 'relu' })), inputShape: [5, 5, 1], outputShape: [3, 3, 3],
  }),
  'Conv2D 1x1 without bias': () => ({ build: one(new Conv2D({ filters: 5, kernelSize: 1, useBias: false })), inputShape: [3, 3, 2], outputShape: [3, 3, 5] }),
  'Dense relu': () => ({ build: one(new Dense({ units: 5, activation: 'relu' })), inputShape: [7], outputShape: [5] }),
  'BatchNormalization': () => ({ build: one(new BatchNormalization({ momentum: 0.9 })), inputShape: [3, 3, 4], outputShape: [3, 3, 4] }),
  'BatchNormalization frozen (inference mode in training)': () => ({
    build: one(new BatchNormalization({ trainable: false, movingVarianceInitializer: { className: 'Constant', config: { value: 2 } } })),
    inputShape: [3, 3, 4], outputShape: [3, 3, 4],
  }),
  'Activation relu': () => ({ build: one(new Activation({ activation: 'relu' })), inputShape: [3, 3, 2], outputShape: [3, 3, 2] }),
  'Activation softmax inside the model': () => ({ build: one(new Activation({ activation: 'softmax' })), inputShape: [6], outputShape: [6] }),
  'ReLU': () => ({ build: one(new ReLU()), inputShape: [5], outputShape: [5] }),
  'Add of two branches': () => ({
    build: (x) => {
      const layer = new Add();
      const a = new Conv2D({ filters: 2, kernelSize: 1, name: 'branch_a' }).apply(x);
      const b = new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', name: 'branch_b' }).apply(x);
      return { out: layer.apply([a, b, x]), layer };
    },
    inputShape: [4, 4, 2], outputShape: [4, 4, 2],
  }),
  'ZeroPadding2D asymmetric': () => ({ build: one(new ZeroPadding2D({ padding: [[1, 0], [2, 1]] })), inputShape: [3, 3, 2], outputShape: [4, 6, 2] }),
  'MaxPooling2D 3x3 same, stride 2': () => ({
    build: one(new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' })), inputShape: [5, 5, 2], outputShape: [3, 3, 2], h: 1e-4,
  }),
  'AveragePooling2D 2x2 same': () => ({ build: one(new AveragePooling2D({ poolSize: 2, padding: 'same' })), inputShape: [5, 5, 2], outputShape: [3, 3, 2] }),
  'GlobalAveragePooling2D': () => ({ build: one(new GlobalAveragePooling2D()), inputShape: [3, 4, 5], outputShape: [5] }),
  'GlobalMaxPooling2D': () => ({ build: one(new GlobalMaxPooling2D()), inputShape: [3, 4, 5], outputShape: [5], h: 1e-4 }),
  'Flatten': () => ({ build: one(new Flatten()), inputShape: [2, 3, 4], outputShape: [24] }),
  'Dropout 0.4': () => ({ build: one(new Dropout({ rate: 0.4, seed: 7 })), inputShape: [3, 3, 4], outputShape: [3, 3, 4] }),
  // gamma and beta drawn at random, so that a mixed-up index shows; 5 and 7 channels take the
  // kernels' scalar tails.
  'LayerNormalization over the channels': () => ({
    build: one(new LayerNormalization({ gammaInitializer: initializers.glorotUniform({ seed: 3 }), betaInitializer: initializers.glorotUniform({ seed: 4 }) })),
    inputShape: [3, 3, 5], outputShape: [3, 3, 5],
  }),
  'LayerNormalization over (W, C) with gamma only': () => ({
    build: one(new LayerNormalization({ axis: [-2, -1], center: false, gammaInitializer: initializers.glorotUniform({ seed: 5 }) })),
    inputShape: [2, 3, 7], outputShape: [2, 3, 7],
  }),
  'LayerNormalization of whole images, no parameters (image standardization)': () => ({
    build: one(new LayerNormalization({ axis: [1, 2, 3], center: false, scale: false })), inputShape: [4, 4, 3], outputShape: [4, 4, 3],
  }),
  'LayerNormalization of vectors': () => ({
    build: one(new LayerNormalization({ axis: 1, epsilon: 0.01, gammaInitializer: initializers.glorotUniform({ seed: 6 }) })), inputShape: [7], outputShape: [7],
  }),
};

describe.each(Object.keys(cases))('%s', (name) => {
  const c = cases[name];
  test('output shape', () => checkOutputShape(c()));
  test('config round trip', () => checkConfigRoundTrip(c()));
  test('gradients against finite differences', () => checkGradients(c()));
});
