// The distinct kernel shapes of a ResNet-50 training step, read off the model itself.

import { resNet50 } from '../src/models/resnet50.js';
import { Conv2D } from '../src/layers/conv2d.js';
import { BatchNormalization } from '../src/layers/batch-normalization.js';
import { window2d } from '../src/kernels/padding.js';

export interface ConvShape {
  layers: string[]; N: number; H: number; W: number; C: number; K: number; F: number; stride: number;
  padT: number; padL: number; OH: number; OW: number; flops: number;
}

export interface BnShape { layers: string[]; M: number; C: number }

export function resnetShapes(batch: number): { convs: ConvShape[]; bns: BnShape[] } {
  const model = resNet50();
  const convs = new Map<string, ConvShape>();
  const bns = new Map<string, BnShape>();
  for (const layer of model.layers) {
    if (layer instanceof Conv2D) {
      const [H, W, C] = layer.inputShapes[0];
      const g = window2d(H, W, layer.kernelSize, layer.kernelSize, layer.strides, layer.padding);
      const key = [H, W, C, layer.kernelSize, layer.strides, layer.padding, layer.filters].join(':');
      const s = convs.get(key) ?? {
        layers: [], N: batch, H, W, C, K: layer.kernelSize, F: layer.filters, stride: layer.strides,
        padT: g.padT, padL: g.padL, OH: g.OH, OW: g.OW,
        flops: 2 * batch * g.OH * g.OW * layer.kernelSize * layer.kernelSize * C * layer.filters,
      };
      s.layers.push(layer.name);
      convs.set(key, s);
    } else if (layer instanceof BatchNormalization) {
      const shape = layer.outputShape;
      const C = shape[shape.length - 1], M = batch * shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const s = bns.get(`${M}:${C}`) ?? { layers: [], M, C };
      s.layers.push(layer.name);
      bns.set(`${M}:${C}`, s);
    }
  }
  return { convs: [...convs.values()], bns: [...bns.values()] };
}
