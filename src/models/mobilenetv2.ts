// MobileNetV2 (Sandler et al. 2018) built as Keras applications builds it, with its layer names:
// Conv1 3x3/2, bn_Conv1, Conv1_relu (ReLU6); 17 inverted residual blocks (expanded_conv_*, then
// block_{1..16}_*: expand 1x1, depthwise 3x3, project 1x1, add when the shape allows); Conv_1 1x1,
// Conv_1_bn, out_relu; global average pooling and `predictions`. Batch norm epsilon 1e-3,
// momentum 0.999, filters rounded to multiples of 8 as Keras rounds them.

import { ArgumentError, describe } from '../errors.js';
import { ReLU } from '../layers/activation.js';
import { Add } from '../layers/add.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { DepthwiseConv2D } from '../layers/depthwise-conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from '../layers/global-pooling2d.js';
import { initializers, type Initializer } from '../layers/initializers.js';
import { input } from '../layers/input.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { standardizeImages } from '../layers/layer-normalization.js';
import { Rescaling } from '../layers/rescaling.js';
import { ZeroPadding2D } from '../layers/zero-padding2d.js';
import { Model } from './model.js';
import type { TutorialModelArgs } from './tutorial-model-args.js';

/** Options of mobileNetV2, Keras applications' arguments (input shape default [64, 64, 3], 6 classes: SIGNS). */
export interface MobileNetV2Args extends TutorialModelArgs {
  /** Width multiplier: every layer's filters scaled by it (Keras offers 0.35, 0.5, 0.75, 1.0, 1.3, 1.4). Default 1.0. */
  alpha?: number;
  /** Whether to end with global average pooling and the `predictions` classifier (softmax). Default true. */
  includeTop?: boolean;
  /**
   * Without the top: `'avg'` or `'max'` global pooling of the last feature map. Required then
   * (Keras's default, null, outputs the map itself, and a simdnet model ends in a vector).
   */
  pooling?: 'avg' | 'max' | null;
  /**
   * Map [0, 1] images to MobileNetV2's [-1, 1] first (a Rescaling layer named `rescaling`), as
   * Keras's `mobilenet_v2.preprocess_input` does to [0, 255] ones. Default true; false gives
   * exactly Keras applications' layers. Ignored with `standardizeImages`.
   */
  rescaleInputs?: boolean;
}

/**
 * Keras's _make_divisible: v rounded to the nearest multiple of `divisor`, never below it nor
 * more than 10% below v.
 */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

const bn = (name: string, x: SymbolicTensor) => new BatchNormalization({ epsilon: 1e-3, momentum: 0.999, name }).apply(x);
const relu6 = (name: string, x: SymbolicTensor) => new ReLU({ maxValue: 6, name }).apply(x);

// Keras's imagenet_utils.correct_pad for a 3x3 window of stride 2: one more row and column of
// zeros before when the size is even, so that "valid" windows land where "same" ones would.
function correctPad(x: SymbolicTensor): [[number, number], [number, number]] {
  const [H, W] = x.shape;
  return [[H % 2, 1], [W % 2, 1]];
}

/**
 * One inverted residual block: expand (1x1, `expansion` times the channels; not in block 0),
 * depthwise 3x3 of `stride`, project (1x1, linear) to `filters`·alpha, and the input added back
 * when the shapes agree.
 */
export function invertedResidualBlock(x: SymbolicTensor, expansion: number, stride: number, alpha: number, filters: number, blockId: number,
  init: Initializer = initializers.glorotUniform()): SymbolicTensor {
  const inChannels = x.shape[2];
  const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
  const inputs = x;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = new Conv2D({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand`, kernelInitializer: init }).apply(x);
    x = relu6(`${prefix}expand_relu`, bn(`${prefix}expand_BN`, x));
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) x = new ZeroPadding2D({ padding: correctPad(x), name: `${prefix}pad` }).apply(x);
  x = new DepthwiseConv2D({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise`, depthwiseInitializer: init }).apply(x);
  x = relu6(`${prefix}depthwise_relu`, bn(`${prefix}depthwise_BN`, x));
  x = new Conv2D({ filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project`, kernelInitializer: init }).apply(x);
  x = bn(`${prefix}project_BN`, x);
  if (inChannels === pointwiseFilters && stride === 1) return new Add({ name: `${prefix}add` }).apply([inputs, x]);
  return x;
}

// The blocks after the first: [filters, stride, expansion], block ids 1 to 16.
const BLOCKS: [number, number, number][] = [
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/**
 * MobileNetV2 as Keras applications builds it, with its layer names; untrained (seeded Glorot weights).
 *
 * @example
 * ```js
 * const model = mobileNetV2({ inputShape: [96, 96, 3], alpha: 0.35, classes: 6 });
 * ```
 */
export function mobileNetV2(args: MobileNetV2Args = {}): Model {
  const alpha = args.alpha ?? 1.0;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 4)) throw new ArgumentError(`mobileNetV2: alpha must be a number in (0, 4], got ${describe(args.alpha)}`);
  const includeTop = args.includeTop ?? true;
  const pooling = args.pooling ?? null;
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') throw new ArgumentError(`mobileNetV2: pooling must be "avg", "max" or null, got ${describe(args.pooling)}`);
  if (!includeTop && pooling === null) throw new ArgumentError('mobileNetV2: without the top, pooling must be "avg" or "max" (a simdnet model ends in a vector, not a feature map)');
  const shape = args.inputShape ?? [64, 64, 3];
  if (shape.length !== 3 || shape[0] < 32 || shape[1] < 32) {
    throw new ArgumentError(`mobileNetV2: inputShape must be (height, width, channels) of at least 32x32 (five stride-2 stages), got (${shape.join(', ')})`);
  }
  const classes = args.classes ?? 6;
  const init = initializers.glorotUniform({ seed: args.seed ?? 0 });

  const xIn = input({ shape });
  let x = args.standardizeImages ? standardizeImages(xIn)
    : (args.rescaleInputs ?? true) ? new Rescaling({ scale: 2, offset: -1, name: 'rescaling' }).apply(xIn) : xIn;
  x = new Conv2D({ filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1', kernelInitializer: init }).apply(x);
  x = relu6('Conv1_relu', bn('bn_Conv1', x));
  x = invertedResidualBlock(x, 1, 1, alpha, 16, 0, init);
  for (const [i, [filters, stride, expansion]] of BLOCKS.entries()) x = invertedResidualBlock(x, expansion, stride, alpha, filters, i + 1, init);
  const lastFilters = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = new Conv2D({ filters: lastFilters, kernelSize: 1, useBias: false, name: 'Conv_1', kernelInitializer: init }).apply(x);
  x = relu6('out_relu', bn('Conv_1_bn', x));

  if (includeTop) {
    x = new GlobalAveragePooling2D({ name: 'global_average_pooling2d' }).apply(x);
    if (args.dropout) x = new Dropout({ rate: args.dropout, name: 'dropout' }).apply(x);
    x = new Dense({ units: classes, activation: 'softmax', name: 'predictions', kernelInitializer: init }).apply(x);
  } else if (pooling === 'avg') {
    x = new GlobalAveragePooling2D({ name: 'global_average_pooling2d' }).apply(x);
  } else if (pooling === 'max') {
    x = new GlobalMaxPooling2D({ name: 'global_max_pooling2d' }).apply(x);
  }
  const name = `mobilenetv2_${alpha.toFixed(2)}_${shape[0]}`;
  return new Model({ inputs: xIn, outputs: x, name, runtime: args.runtime });
}
