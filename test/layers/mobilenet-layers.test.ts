// MobileNetV2's layers against PyTorch (test/fixtures/mobilenet-layers: a grouped conv2d with
// groups = channels, relu6 and its kin, computed in float64), then as every layer is checked:
// shapes, config round trip and finite differences through a model.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Concatenate, DepthwiseConv2D, ReLU, Rescaling, SeparableConv2D, type Layer, type SymbolicTensor } from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { harness } from '../helpers/harness.js';
import { checkConfigRoundTrip, checkGradients, checkOutputShape, type LayerCase } from './layer-check.js';
import { runLayer } from './run-layer.js';

type Golden = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const goldens = JSON.parse(readFileSync(new URL('../fixtures/mobilenet-layers/goldens.json', import.meta.url), 'utf8')).cases as Record<string, Golden>;

function layerFor(c: Golden): Layer {
  const conv = { kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, depthMultiplier: c.depthMultiplier, dilationRate: c.dilationRate, useBias: c.useBias };
  switch (c.kind) {
    case 'depthwise': return new DepthwiseConv2D(conv);
    case 'separable': return new SeparableConv2D({ ...conv, filters: c.filters });
    case 'relu': return new ReLU(c.args);
    case 'rescaling': return new Rescaling(c.args);
    case 'concatenate': return new Concatenate();
    default: throw new Error(c.kind);
  }
}

const h = harness();

describe('MobileNetV2 layers against the PyTorch goldens', () => {
  for (const [name, c] of Object.entries(goldens)) {
    test(name, () => {
      const layer = layerFor(c);
      const inputs = c.kind === 'concatenate'
        ? c.xs.map((data: number[], i: number) => ({ data, shape: c.inputShapes[i] }))
        : [{ data: c.x, shape: c.inputShape }];
      const weights = Object.fromEntries(['depthwise_kernel', 'pointwise_kernel', 'bias'].filter((w) => c[w]).map((w) => [w, c[w]]));
      const r = runLayer(h, layer, inputs, weights, c.dy);
      expect([c.outputShape[0], ...layer.outputShape]).toEqual(c.outputShape);
      expectClose(r.y, c.y, 1e-4, `${name} y`);
      const dxs = c.kind === 'concatenate' ? c.dxs : [c.dx];
      dxs.forEach((dx: number[], i: number) => expectClose(r.dxs[i], dx, 1e-4, `${name} dx${i}`));
      for (const w of Object.keys(weights)) expectClose(r.grads[w], c[`d${w}`], 1e-4, `${name} d${w}`);
    });
  }
});

const one = (layer: Layer) => (x: SymbolicTensor) => ({ out: layer.apply(x), layer });

const cases: Record<string, () => LayerCase> = {
  'DepthwiseConv2D 3x3 same, one channel': () => ({ build: one(new DepthwiseConv2D({ kernelSize: 3, padding: 'same' })), inputShape: [5, 5, 1], outputShape: [5, 5, 1] }),
  'DepthwiseConv2D 3x3 valid, stride 2, relu': () => ({
    build: one(new DepthwiseConv2D({ kernelSize: 3, strides: 2, activation: 'relu' })), inputShape: [7, 6, 5], outputShape: [3, 2, 5],
  }),
  'DepthwiseConv2D 2x2 same, stride 2, depth multiplier 2': () => ({
    build: one(new DepthwiseConv2D({ kernelSize: 2, strides: 2, padding: 'same', depthMultiplier: 2 })), inputShape: [5, 4, 3], outputShape: [3, 2, 6],
  }),
  'DepthwiseConv2D 3x3 same, dilation 2, no bias': () => ({
    build: one(new DepthwiseConv2D({ kernelSize: 3, padding: 'same', dilationRate: 2, useBias: false })), inputShape: [6, 5, 4], outputShape: [6, 5, 4],
  }),
  'SeparableConv2D 3x3 same, multiplier 2, relu': () => ({
    build: one(new SeparableConv2D({ filters: 5, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu' })), inputShape: [4, 4, 3], outputShape: [4, 4, 5],
  }),
  'SeparableConv2D 3x3 valid, stride 2, no bias': () => ({
    build: one(new SeparableConv2D({ filters: 4, kernelSize: 3, strides: 2, useBias: false })), inputShape: [7, 7, 6], outputShape: [3, 3, 4],
  }),
  'ReLU6': () => ({ build: one(new ReLU({ maxValue: 6 })), inputShape: [9], outputShape: [9], h: 1e-4 }),
  'ReLU leaky, threshold, ceiling': () => ({ build: one(new ReLU({ maxValue: 0.5, negativeSlope: 0.3, threshold: -0.2 })), inputShape: [3, 3, 3], outputShape: [3, 3, 3], h: 1e-4 }),
  'Rescaling': () => ({ build: one(new Rescaling({ scale: 2, offset: -1 })), inputShape: [3, 3, 2], outputShape: [3, 3, 2] }),
  'Concatenate of three branches': () => ({
    build: (x) => {
      const layer = new Concatenate();
      const a = new DepthwiseConv2D({ kernelSize: 3, padding: 'same', name: 'branch_a' }).apply(x);
      const b = new SeparableConv2D({ filters: 3, kernelSize: 1, name: 'branch_b' }).apply(x);
      return { out: layer.apply([a, b, x]), layer };
    },
    inputShape: [4, 4, 2], outputShape: [4, 4, 7],
  }),
};

describe('MobileNetV2 layers: shapes, config round trip, gradients through a model', () => {
  for (const [name, make] of Object.entries(cases)) {
    test(`${name}: output shape`, () => checkOutputShape(make()));
    test(`${name}: config round trip`, () => checkConfigRoundTrip(make()));
    test(`${name}: gradients match finite differences`, () => checkGradients(make()));
  }
});

describe('MobileNetV2 layers refuse bad arguments', () => {
  test('messages name the layer and the argument', () => {
    expect(() => new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 0, name: 'dw' })).toThrow(/layer "dw": depthMultiplier must be a positive integer, got 0/);
    expect(() => new ReLU({ maxValue: -1, name: 'r' })).toThrow(/layer "r": maxValue must be a number of at least 0, got -1/);
    expect(() => new ReLU({ negativeSlope: NaN, name: 'r2' })).toThrow(/layer "r2": negativeSlope/);
    expect(() => new Rescaling({ scale: Infinity, name: 's' } as never)).toThrow(/layer "s": scale must be a finite number/);
    expect(() => new Concatenate({ axis: 1, name: 'c' })).toThrow(/layer "c" \(Concatenate\): only axis -1/);
  });
});
