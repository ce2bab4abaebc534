// simdnet's model config (camelCase, see models/config.ts) <-> Keras's model_config JSON
// (snake_case keys, inbound nodes as [[["layer", 0, 0, {}]]]), so a Keras user recognises a file.

import { ModelFileError } from '../errors.js';
import type { LayerConfig, ModelConfig } from '../engine/graph-config.js';

const toSnake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const toCamel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function mapKeys(v: unknown, f: (k: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapKeys(x, f)]));
  return v;
}

export function toKerasConfig(cfg: ModelConfig): Record<string, unknown> {
  return {
    class_name: 'Model',
    config: {
      name: cfg.config.name,
      layers: cfg.config.layers.map((l) => ({
        name: l.name,
        class_name: l.className,
        config: mapKeys(l.config, toSnake),
        inbound_nodes: l.inboundNodes.length ? [l.inboundNodes.map((n) => [n, 0, 0, {}])] : [],
      })),
      input_layers: cfg.config.inputLayers.map((n) => [n, 0, 0]),
      output_layers: cfg.config.outputLayers.map((n) => [n, 0, 0]),
    },
  };
}

export function fromKerasConfig(json: unknown, where: string): ModelConfig {
  const bad = (what: string) => new ModelFileError(`simdnet: ${where}: model_config ${what}`);
  const c = json as { class_name?: string; config?: { name?: string; layers?: unknown[]; input_layers?: unknown[][]; output_layers?: unknown[][] } };
  if (!c || (c.class_name !== 'Model' && c.class_name !== 'Functional') || !c.config || !Array.isArray(c.config.layers)) {
    throw bad('is not a functional Keras model (expected class_name "Model" with a list of layers)');
  }
  const layers: LayerConfig[] = c.config.layers.map((raw, i) => {
    const l = raw as { name?: string; class_name?: string; config?: Record<string, unknown>; inbound_nodes?: unknown[][][] };
    if (typeof l.name !== 'string' || typeof l.class_name !== 'string') throw bad(`layer ${i} has no name or class_name`);
    const inbound = (l.inbound_nodes?.[0] ?? []).map((n) => {
      if (!Array.isArray(n) || typeof n[0] !== 'string') throw bad(`layer "${l.name}" has malformed inbound_nodes`);
      return n[0];
    });
    return { name: l.name, className: l.class_name, config: mapKeys(l.config ?? {}, toCamel) as Record<string, unknown>, inboundNodes: inbound };
  });
  const names = (v: unknown[][] | undefined, what: string) => {
    if (!Array.isArray(v) || v.length !== 1 || !Array.isArray(v[0]) || typeof v[0][0] !== 'string') throw bad(`needs exactly one ${what} layer`);
    return [v[0][0] as string];
  };
  return {
    className: 'Model',
    config: { name: c.config.name ?? 'model', layers, inputLayers: names(c.config.input_layers, 'input'), outputLayers: names(c.config.output_layers, 'output') },
  };
}
