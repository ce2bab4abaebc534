// A model's architecture as JSON (Keras's model_config, with camelCase keys) and back. Layer
// classes are found in the registry that every layer file adds itself to.

import { ArgumentError, describe } from '../errors.js';
import '../layers/index.js';
import { InputLayer } from '../layers/input.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { layerClass } from '../layers/registry.js';
import type { Graph } from './graph.js';

export interface LayerConfig {
  className: string;
  name: string;
  config: Record<string, unknown>;
  inboundNodes: string[];
}

/** A model's architecture as Keras's functional config (camelCase keys): Model.getConfig and Model.fromConfig. */
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
        // Keras writes `trainable` into every layer's config; simdnet only when it is false.
        config: n.layer.trainable ? n.layer.getConfig() : { ...n.layer.getConfig(), trainable: false },
        inboundNodes: n.inputs.map((j) => graph.nodes[j].layer.name),
      })),
      inputLayers: [graph.inputLayer.name],
      outputLayers: [graph.outputLayer.name],
    },
  };
}

/** Rebuilds the layers of a config and connects them; returns the input and output tensors. */
export function buildFromConfig(cfg: ModelConfig): { name: string; input: SymbolicTensor; output: SymbolicTensor } {
  if (!cfg || cfg.className !== 'Model' || !Array.isArray(cfg.config?.layers)) {
    throw new ArgumentError('not a simdnet model config (expected {className: "Model", config: {layers: [...]}})');
  }
  const tensors = new Map<string, SymbolicTensor>();
  for (const [i, lc] of cfg.config.layers.entries()) {
    if (!lc || typeof lc !== 'object' || typeof lc.name !== 'string' || !lc.config || typeof lc.config !== 'object') {
      throw new ArgumentError(`model config: layer ${i} needs a name and a config, got ${describe(lc)}`);
    }
    if (tensors.has(lc.name)) throw new ArgumentError(`model config: two layers are named "${lc.name}"`);
    const layer = layerClass(lc.className).fromConfig({ ...lc.config, name: lc.name });
    if (layer instanceof InputLayer) {
      tensors.set(lc.name, layer.output!);
      continue;
    }
    const inbound = (Array.isArray(lc.inboundNodes) ? lc.inboundNodes : []).map((n) => {
      const t = tensors.get(n);
      if (!t) throw new ArgumentError(`model config: layer "${lc.name}" reads "${n}", which is not defined before it`);
      return t;
    });
    if (inbound.length === 0) throw new ArgumentError(`model config: layer "${lc.name}" reads no layer`);
    tensors.set(lc.name, layer.apply(inbound.length === 1 ? inbound[0] : inbound));
  }
  const pick = (n: unknown) => {
    const t = typeof n === 'string' ? tensors.get(n) : undefined;
    if (!t) throw new ArgumentError(`model config names an unknown layer ${describe(n)}`);
    return t;
  };
  return { name: cfg.config.name, input: pick(cfg.config.inputLayers?.[0]), output: pick(cfg.config.outputLayers?.[0]) };
}
