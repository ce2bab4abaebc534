// Model files: HDF5 in Keras's layout, written with h5wasm.
//
//   /                       attrs: model_config (JSON), class_names (JSON), simdnet_temperature (JSON), training_config (JSON),
//                                  keras_version, backend, simdnet_training (JSON: epochs done,
//                                  history, fit settings)
//   /model_weights          attr layer_names; /model_weights/<layer> attr weight_names (empty for
//                           a layer without weights, as Keras writes it)
//   /model_weights/<layer>/<layer>/<weight>:0      attr simdnet_crc32: CRC-32 of its bytes
//   /optimizer_weights/<Optimizer>/iterations:0 and /<layer>/<weight>/<slot>:0 (with simdnet_crc32)
//
// Files are written to a temporary name and renamed, so a crash never leaves a broken model.
// Loading checks the architecture against the weights in the file before it allocates anything,
// runs no initializer, and refuses non-finite values and bytes that do not match their checksum.

import type { TrainingSettings } from '../training/settings.js';
import type { Group } from 'h5wasm';
import { buildFromConfig, type ModelConfig } from '../engine/graph-config.js';
import { Graph } from '../engine/graph.js';
import { ModelFileError, SimdnetError } from '../errors.js';
import type { Runtime } from '../kernels/index.js';
import { Model } from '../models/model.js';
import { VERSION } from '../version.js';
import { lossFromConfig, serializeLoss } from '../training/losses.js';
import { optimizerFromConfig } from '../training/optimizers.js';
import { crc32 } from './crc32.js';
import type { FileSource } from './file-source.js';
import { hdf5Reason, Hdf5File, hdf5Writer } from './hdf5.js';
import { fromKerasConfig, toKerasConfig } from './keras-config.js';

/** What a training run needs to continue where it stopped. */
export interface TrainingState {
  epochsDone: number;
  history: Record<string, number[]>;
  seed: number;
  batchSize: number;
  modelName: string;
  runId?: string;    // the run that wrote the file; its history and report carry the same id
  settings?: TrainingSettings; // how the run trains (augmentation, schedule, ...), kept for --resume
}

export { MAX_INPUT_VALUES, MAX_WEIGHTS } from '../models/limits.js';
import { MAX_INPUT_VALUES, MAX_WEIGHTS } from '../models/limits.js';

const CHECKSUM = 'simdnet_crc32';

/**
 * Saves a model as an HDF5 file in Keras's layout: to `path` (Node), written whole or not at all,
 * or, without a path (or with `null`), as the file's bytes, which `loadModel` and the CLI read.
 *
 * @example
 * const bytes = await saveModel(model);            // a page: offer them as a download
 * await saveModel(model, 'model.h5');              // Node
 */
export async function saveModel(model: Model): Promise<Uint8Array>;
export async function saveModel(model: Model, path: string, training?: TrainingState): Promise<void>;
export async function saveModel(model: Model, path: null, training?: TrainingState): Promise<Uint8Array>;
export async function saveModel(model: Model, path?: string | null, training?: TrainingState): Promise<Uint8Array | void> {
  const w = await hdf5Writer();
  // One whole step: wait for the one under way, then write without yielding (w.write fills the
  // file before its first await), so no step starts while the weights are read.
  await model.core.gate.idle();
  // A diverged model is not saved over a good file (which loadModel would then refuse).
  const rt = model.core.runtime;
  for (const s of model.layout.ordered()) {
    const bad = rt.k.first_non_finite(model.core.params + 4 * s.offset, s.weight.size);
    if (bad >= 0) {
      throw new ModelFileError(`simdnet: not writing ${path ?? 'the model file'}: weight "${s.weight.fullName}" holds a non-finite value ` +
        `(${rt.f32(model.core.params + 4 * (s.offset + bad), 1)[0]}) at index ${bad}; training diverged (a smaller learning rate?)`);
    }
  }
  const bytes = await w.write(path ?? undefined, (f) => {
    try {
      writeModel(f, model, training);
    } catch (err) {
      if (err instanceof SimdnetError) throw err;
      throw new ModelFileError(`simdnet: cannot write ${path ?? 'the model file'}: ${hdf5Reason(err)}`);
    }
  });
  if (path === undefined || path === null) return bytes!;
}

function writeModel(f: Group, model: Model, training?: TrainingState): void {
  f.create_attribute('model_config', JSON.stringify(toKerasConfig(model.getConfig())));
  f.create_attribute('class_names', JSON.stringify(model.classNames));
  f.create_attribute('simdnet_temperature', JSON.stringify(model.temperature));
  f.create_attribute('keras_version', `simdnet ${VERSION}`);
  f.create_attribute('backend', 'simdnet (WebAssembly SIMD)');
  const mw = f.create_group('model_weights');
  mw.create_attribute('layer_names', model.layers.map((l) => l.name));
  // Datasets are written straight from views of the model's memory, one at a time: a ResNet-50
  // with Adam state is 280 MB that need not be copied into JavaScript first.
  const rt = model.core.runtime;
  const view = (base: number, offset: number, size: number) => rt.f32(base + 4 * offset, size);
  const dataset = (g: Group, name: string, data: Float32Array, shape: number[]) => {
    const d = g.create_dataset({ name, data, shape, dtype: '<f' });
    d.create_attribute(CHECKSUM, crc32(data));
  };
  for (const layer of model.layers) {
    const g = mw.create_group(layer.name);
    if (layer.weights.length === 0) {
      // Keras reads every listed name: a layer without weights lists none (an empty array).
      g.create_attribute('weight_names', new Float64Array(0), [0], '<d');
      continue;
    }
    g.create_attribute('weight_names', layer.weights.map((w) => `${layer.name}/${w.name}:0`));
    const inner = g.create_group(layer.name);
    for (const w of layer.weights) {
      const place = model.layout.byName.get(w.fullName)!;
      dataset(inner, `${w.name}:0`, view(model.core.params, place.offset, w.size), w.shape);
    }
  }
  if (model.optimizer && model.loss) {
    const opt = model.optimizer;
    f.create_attribute('training_config', JSON.stringify({
      optimizer_config: { class_name: opt.className, config: opt.getConfig() },
      loss: serializeLoss(model.loss), metrics: model.metrics,
    }));
    const og = f.create_group('optimizer_weights').create_group(opt.className);
    og.create_dataset({ name: 'iterations:0', data: BigInt64Array.from([BigInt(opt.iterations)]), shape: [], dtype: '<q' });
    for (const s of model.layout.ordered()) {
      if (!s.weight.trainable) continue;
      // optimizer_weights/Adam/<layer>/<weight>/<slot>:0
      const [layerName, weightName] = s.weight.fullName.split('/');
      const lg = og.keys().includes(layerName) ? (og.get(layerName) as Group) : og.create_group(layerName);
      const wg = lg.create_group(weightName);
      for (const [k, slotName] of opt.slotNames.entries()) {
        dataset(wg, `${slotName}:0`, view(model.core.slots[k], s.offset, s.weight.size), [s.weight.size]);
      }
    }
  }
  if (training) f.create_attribute('simdnet_training', JSON.stringify(training));
}

function attrJson(f: Hdf5File, name: string): unknown {
  const a = f.attr('', name);
  if (a === undefined) return undefined;
  try {
    return JSON.parse(String(a));
  } catch {
    throw new ModelFileError(`simdnet: ${f.path}: attribute "${name}" is not valid JSON; the file is corrupt`);
  }
}

// A float32 dataset's values, checked: the dtype, finiteness, and the stored checksum if any.
async function readFloats(f: Hdf5File, dataset: string, what: string, size: number): Promise<Float32Array> {
  const v = await f.read(dataset);
  if (!(v instanceof Float32Array) || v.length !== size) throw new ModelFileError(`simdnet: ${f.path}: ${what} is not ${size} float32 values`);
  const stored = f.attr(dataset, CHECKSUM);
  if (stored !== undefined && stored !== crc32(v)) {
    throw new ModelFileError(`simdnet: ${f.path}: ${what} does not match its checksum (stored ${String(stored)}, read ${crc32(v)}); the file is corrupt`);
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new ModelFileError(`simdnet: ${f.path}: ${what} holds a non-finite value (${v[i]}) at index ${i}`);
  }
  return v;
}

const weightPath = (layer: string, weight: string) => `model_weights/${layer}/${layer}/${weight}:0`;

interface Weights { graph: Graph; found: Map<string, string> } // weight name -> dataset path

// Every weight of the graph's layers, found in the file with the graph's shape; throws before
// any model memory exists when one is missing, of another shape, or the model is too large.
function findWeights(graph: Graph, f: Hdf5File, skipMismatch = false): Weights {
  const mw = f.entry('model_weights');
  if (!mw || mw.kind !== 'group') throw new ModelFileError(`simdnet: ${f.path}: no model_weights group; not a model file`);
  const found = new Map<string, string>();
  let total = 0;
  for (const layer of graph.layers) {
    for (const w of layer.weights) {
      total += w.size;
      const at = weightPath(layer.name, w.name);
      const d = f.entry(at);
      const shape = d?.kind === 'dataset' ? d.shape : undefined;
      if (!shape || shape.join(',') !== w.shape.join(',')) {
        if (skipMismatch) continue;
        throw new ModelFileError(shape
          ? `simdnet: ${f.path} does not fit this model: weight "${w.fullName}" is (${shape.join(', ')}) in the file, (${w.shape.join(', ')}) in the model (a model file from a different architecture?)`
          : `simdnet: ${f.path} does not fit this model: it has no weight "${w.fullName}" (a model file from a different architecture?)`);
      }
      found.set(w.fullName, at);
    }
  }
  if (total > MAX_WEIGHTS) throw new ModelFileError(`simdnet: ${f.path}: the model declares ${total.toLocaleString('en-US')} weights, over the limit of ${MAX_WEIGHTS.toLocaleString('en-US')}`);
  return { graph, found };
}

async function readWeightsInto(model: Model, w: Weights, f: Hdf5File): Promise<void> {
  const values: Record<string, Float32Array> = {};
  for (const [name, at] of w.found) values[name] = await readFloats(f, at, `weight "${name}"`, model.layout.byName.get(name)!.weight.size);
  // Between two steps, if the model is training.
  await model.core.gate.idle();
  model.setWeights(values);
}

function graphOf(cfg: ModelConfig, path: string): { name: string; graph: Graph } {
  try {
    const { name, input, output } = buildFromConfig(cfg);
    const graph = new Graph(input, output);
    const values = graph.inputLayer.outputShape.reduce((a, b) => a * b, 1);
    if (values > MAX_INPUT_VALUES) {
      throw new ModelFileError(`simdnet: ${path}: the model takes inputs of (${graph.inputLayer.outputShape.join(', ')}), over the limit of ${MAX_INPUT_VALUES.toLocaleString('en-US')} values per sample`);
    }
    return { name, graph };
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw new ModelFileError(`simdnet: ${path}: model_config: ${(err as Error).message.replace(/^simdnet: /, '')}`);
  }
}

export interface LoadedModel { model: Model; training?: TrainingState }

/** Options of loadModel. */
export interface LoadModelOptions {
  /** The kernels and memory to use. Default: the model's own. */
  runtime?: Runtime;
  /** Restore the optimizer, loss and optimizer state of training_config (Keras's compile). Default true. */
  compile?: boolean;
}

/**
 * Loads a model file written by saveModel, the CLI or Keras: from a path (Node), or from the
 * file's bytes (ArrayBuffer, Uint8Array, Blob or File, as a page has them).
 */
export async function loadModel(source: FileSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const f = await Hdf5File.open(source, ModelFileError, 'the model bytes');
  const path = f.path;
  try {
    const cfg = attrJson(f, 'model_config');
    if (cfg === undefined) throw new ModelFileError(`simdnet: ${path}: no model_config attribute; not a Keras/simdnet model file`);
    const { name, graph } = graphOf(fromKerasConfig(cfg, path), path);
    const weights = findWeights(graph, f);
    const model = new Model({ inputs: graph.inputLayer.output!, outputs: graph.outputLayer.output!, name, runtime: options.runtime, initialize: false });
    await readWeightsInto(model, weights, f);
    const names = attrJson(f, 'class_names');
    if (names !== undefined) {
      try {
        model.classNames = names as string[];
      } catch (err) {
        throw new ModelFileError(`simdnet: ${path}: class_names: ${(err as Error).message.replace(/^simdnet: /, '')}`);
      }
    }
    const temperature = attrJson(f, 'simdnet_temperature');
    if (temperature !== undefined) {
      try {
        model.temperature = temperature as number;
      } catch (err) {
        throw new ModelFileError(`simdnet: ${path}: simdnet_temperature: ${(err as Error).message.replace(/^simdnet: /, '')}`);
      }
    }
    if (options.compile ?? true) await restoreTraining(model, f);
    return { model, training: trainingState(attrJson(f, 'simdnet_training'), path) };
  } finally {
    await f.close();
  }
}

async function restoreTraining(model: Model, f: Hdf5File): Promise<void> {
  const path = f.path;
  const tc = attrJson(f, 'training_config') as { optimizer_config?: { class_name?: unknown; config?: unknown }; loss?: unknown; metrics?: unknown } | undefined;
  if (!tc?.optimizer_config || tc.loss === undefined) return;
  try {
    const optimizer = optimizerFromConfig(String(tc.optimizer_config.class_name), (tc.optimizer_config.config ?? {}) as Record<string, number | boolean>);
    model.compile({ optimizer, loss: lossFromConfig(tc.loss), metrics: tc.metrics as string[] | undefined });
  } catch (err) {
    throw new ModelFileError(`simdnet: ${path}: training_config: ${(err as Error).message.replace(/^simdnet: /, '')}`);
  }
  const optimizer = model.optimizer!;
  const base = `optimizer_weights/${optimizer.className}`;
  if (f.entry(base)?.kind !== 'group') return;
  const raw = f.entry(`${base}/iterations:0`) ? await f.read(`${base}/iterations:0`) : 0n;
  const iterations = typeof raw === 'bigint' ? raw : ArrayBuffer.isView(raw) ? (raw as unknown as bigint[])[0] : raw;
  if (typeof iterations !== 'bigint' || iterations < 0n || iterations > 2n ** 53n) {
    throw new ModelFileError(`simdnet: ${path}: ${base}/iterations:0 is not a step count (${String(raw)})`);
  }
  const state: Record<string, Float32Array> = {};
  for (const s of model.layout.places) {
    if (!s.weight.trainable) continue;
    for (const slot of optimizer.slotNames) {
      const at = `${base}/${s.weight.fullName}/${slot}:0`;
      if (f.entry(at)?.kind !== 'dataset') throw new ModelFileError(`simdnet: ${path}: optimizer state "${slot}" of "${s.weight.fullName}" is missing`);
      state[`${slot}/${s.weight.fullName}`] = await readFloats(f, at, `optimizer state "${slot}" of "${s.weight.fullName}"`, s.weight.size);
    }
  }
  model.setOptimizerState(state, Number(iterations));
}

function trainingState(v: unknown, path: string): TrainingState | undefined {
  if (v === undefined) return undefined;
  const t = v as TrainingState;
  const whole = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (!t || !whole(t.epochsDone) || !whole(t.seed) || !whole(t.batchSize) || t.batchSize < 1 || typeof t.modelName !== 'string' ||
      !t.history || typeof t.history !== 'object' || Object.values(t.history).some((h) => !Array.isArray(h))) {
    throw new ModelFileError(`simdnet: ${path}: attribute "simdnet_training" is not a valid training state; the file is corrupt`);
  }
  return t;
}

/** Options of loadWeights. */
export interface LoadWeightsOptions {
  /** Match weights by layer name, and load only the layers the file has (Keras's by_name). Default false: every weight must be there. */
  byName?: boolean;
  /** With byName: leave the layers whose weights differ in shape as they are, instead of failing. Default false. */
  skipMismatch?: boolean;
}

/**
 * Loads the weights of a model file into an existing model; returns the names of the weights it
 * left as they were (byName with skipMismatch, or layers the file does not have).
 */
export async function loadWeights(model: Model, source: FileSource, options: LoadWeightsOptions = {}): Promise<string[]> {
  const f = await Hdf5File.open(source, ModelFileError, 'the model bytes');
  const path = f.path;
  try {
    const w = findWeights(model.graph, f, options.byName ?? false);
    if (options.byName && !options.skipMismatch) {
      for (const l of model.layers) {
        for (const wt of l.weights) {
          const shape = f.entry(weightPath(l.name, wt.name))?.shape;
          if (shape && shape.join(',') !== wt.shape.join(',')) {
            throw new ModelFileError(`simdnet: ${path}: weight "${wt.fullName}" is (${shape.join(', ')}) in the file, (${wt.shape.join(', ')}) in the model; pass skipMismatch to leave it as it is`);
          }
        }
      }
    }
    await readWeightsInto(model, w, f);
    return model.layout.ordered().map((s) => s.weight.fullName).filter((n) => !w.found.has(n));
  } finally {
    await f.close();
  }
}
