// Layer classes by their Keras class name, so that a model config or a model file can be turned
// back into layers. Every layer file registers its class when it is loaded (layers/index.ts loads
// them all); a layer written outside simdnet registers itself the same way.

import { ArgumentError } from '../errors.js';
import type { Layer } from './layer.js';

export interface LayerClass {
  readonly className: string;
  fromConfig(config: Record<string, unknown>): Layer;
}

const classes = new Map<string, LayerClass>();

export function registerLayer(cls: LayerClass): void {
  const known = classes.get(cls.className);
  if (known && known !== cls) throw new ArgumentError(`two layer classes are registered as "${cls.className}"`);
  classes.set(cls.className, cls);
}

export function layerClass(className: string, where = 'the model config'): LayerClass {
  const cls = classes.get(className);
  if (!cls) {
    throw new ArgumentError(`unknown layer class ${JSON.stringify(className)} in ${where} ` +
      `(simdnet has ${[...classes.keys()].sort().join(', ')})`);
  }
  return cls;
}

export function registeredLayers(): string[] {
  return [...classes.keys()].sort();
}
