// Layer classes by their Keras class name, so that a model config or a model file can be turned
// back into layers. Every layer file registers its class when it is loaded (layers/index.ts loads
// them all); a layer written outside simdnet registers itself the same way.

import { ArgumentError } from '../errors.js';
import type { Layer } from './layer.js';

/** A layer class as the registry knows it: its Keras class name and a constructor from its config. */
export interface LayerClass {
  readonly className: string;
  /** A layer from its config (getConfig's output). */
  fromConfig(config: Record<string, unknown>): Layer;
}

const classes = new Map<string, LayerClass>();

/** Makes a layer class known to Model.fromConfig and to model files (every simdnet layer registers itself; so does a custom layer). */
export function registerLayer(cls: LayerClass): void {
  const known = classes.get(cls.className);
  if (known && known !== cls) throw new ArgumentError(`two layer classes are registered as "${cls.className}"`);
  classes.set(cls.className, cls);
}

/** The registered class named `className`; refuses an unknown one, listing the known. */
export function layerClass(className: string, where = 'the model config'): LayerClass {
  const cls = classes.get(className);
  if (!cls) {
    throw new ArgumentError(`unknown layer class ${JSON.stringify(className)} in ${where} ` +
      `(simdnet has ${[...classes.keys()].sort().join(', ')})`);
  }
  return cls;
}

/** The class names of every registered layer, sorted. */
export function registeredLayers(): string[] {
  return [...classes.keys()].sort();
}
