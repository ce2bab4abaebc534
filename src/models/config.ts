// A model's architecture as JSON (Keras's model_config, with camelCase keys) and back.

import { Activation, ReLU } from '../layers/activation.js';
import { Add } from '../layers/add.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Flatten } from '../layers/flatten.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from '../layers/global-pooling2d.js';
import { initializerFromConfig } from '../layers/initializers.js';
import { InputLayer } from '../layers/input.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import { ZeroPadding2D } from '../layers/zero-padding2d.js';
import type { Graph } from './graph.js';

export interface LayerConfig {
  className: string;
  name: string;
  config: Record<string, unknown>;
  inboundNodes: string[];
}

export interface ModelConfig {
  className: 'Model';
  config: { name: string; layers: LayerConfig[]; inputLayers: string[]; outputLayers: string[] };
}

export function graphConfig(name: string, graph: Graph): ModelConfig {
  return {
    className: 'Model',
    config: {
      name,
      layers: graph.nodes.map((n) => ({
        className: n.layer.className,
        name: n.layer.name,
        config: n.layer.getConfig(),
        inboundNodes: n.inputs.map((j) => graph.nodes[j].layer.name),
      })),
      inputLayers: [graph.nodes[graph.inputNode].layer.name],
      outputLayers: [graph.nodes[graph.outputNode].layer.name],
    },
  };
}

type InitCfg = { className: string; config: Record<string, unknown> };
const init = (c: unknown) => (c ? initializerFromConfig(c as InitCfg) : undefined);
const sq = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : (v as number));

function layerFromConfig(lc: LayerConfig): Layer {
  const c = lc.config as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const name = lc.name;
  switch (lc.className) {
    case 'InputLayer': return new InputLayer({ shape: (c.batchInputShape as (number | null)[]).slice(1) as number[], name });
    case 'Conv2D': return new Conv2D({
      name, filters: c.filters, kernelSize: sq(c.kernelSize), strides: sq(c.strides), padding: c.padding,
      useBias: c.useBias, activation: c.activation, kernelInitializer: init(c.kernelInitializer), biasInitializer: init(c.biasInitializer),
    });
    case 'Dense': return new Dense({
      name, units: c.units, activation: c.activation, useBias: c.useBias,
      kernelInitializer: init(c.kernelInitializer), biasInitializer: init(c.biasInitializer),
    });
    case 'BatchNormalization': return new BatchNormalization({
      name, axis: c.axis, momentum: c.momentum, epsilon: c.epsilon,
      gammaInitializer: init(c.gammaInitializer), betaInitializer: init(c.betaInitializer),
      movingMeanInitializer: init(c.movingMeanInitializer), movingVarianceInitializer: init(c.movingVarianceInitializer),
    });
    case 'Activation': return new Activation({ name, activation: c.activation });
    case 'ReLU': return new ReLU({ name });
    case 'Add': return new Add({ name });
    case 'ZeroPadding2D': return new ZeroPadding2D({ name, padding: c.padding });
    case 'MaxPooling2D': return new MaxPooling2D({ name, poolSize: sq(c.poolSize), strides: sq(c.strides), padding: c.padding });
    case 'AveragePooling2D': return new AveragePooling2D({ name, poolSize: sq(c.poolSize), strides: sq(c.strides), padding: c.padding });
    case 'GlobalAveragePooling2D': return new GlobalAveragePooling2D({ name });
    case 'GlobalMaxPooling2D': return new GlobalMaxPooling2D({ name });
    case 'Flatten': return new Flatten({ name });
    default: throw new Error(`simdnet: unknown layer class "${lc.className}" in the model config`);
  }
}

// Rebuilds the layers of a config and connects them; returns the input and output tensors.
export function buildFromConfig(cfg: ModelConfig): { name: string; input: SymbolicTensor; output: SymbolicTensor } {
  if (!cfg || cfg.className !== 'Model' || !Array.isArray(cfg.config?.layers)) {
    throw new Error('simdnet: not a simdnet model config (expected {className: "Model", config: {layers: [...]}})');
  }
  const tensors = new Map<string, SymbolicTensor>();
  for (const lc of cfg.config.layers) {
    const layer = layerFromConfig(lc);
    if (layer instanceof InputLayer) {
      tensors.set(lc.name, layer.output!);
      continue;
    }
    const inbound = lc.inboundNodes.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new Error(`simdnet: model config: layer "${lc.name}" reads "${n}", which is not defined before it`);
      return t;
    });
    tensors.set(lc.name, layer.apply(inbound.length === 1 ? inbound[0] : inbound));
  }
  const pick = (n: string) => {
    const t = tensors.get(n);
    if (!t) throw new Error(`simdnet: model config names an unknown layer "${n}"`);
    return t;
  };
  return { name: cfg.config.name, input: pick(cfg.config.inputLayers[0]), output: pick(cfg.config.outputLayers[0]) };
}
