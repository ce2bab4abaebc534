// Model files: HDF5 in Keras's layout, written with h5wasm.
//
//   /                       attrs: model_config (JSON), training_config (JSON), keras_version, backend,
//                                  simdnet_training (JSON: epochs done, history, fit settings)
//   /model_weights          attr layer_names; /model_weights/<layer> attr weight_names
//   /model_weights/<layer>/<layer>/<weight>:0
//   /optimizer_weights/<Optimizer>/iterations:0 and /<layer>/<weight>/<slot>:0
//
// Files are written to a temporary name and renamed, so a crash never leaves a broken model.

import { ModelFileError } from '../errors.js';
import { renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Dataset, Group } from 'h5wasm/node';
import { Model } from '../models/model.js';
import type { Runtime } from '../kernels/index.js';
import { lossFromConfig, serializeLoss } from '../training/losses.js';
import { optimizerFromConfig } from '../training/optimizers.js';
import { entityAt, hdf5, openHdf5, readValue } from './hdf5.js';
import { fromKerasConfig, toKerasConfig } from './keras-config.js';
import { packageVersion } from '../package.js';

// What a training run needs to continue where it stopped.
export interface TrainingState {
  epochsDone: number;
  history: Record<string, number[]>;
  seed: number;
  batchSize: number;
  modelName: string;
}

// Writes `path` through a temporary file in the same folder; removes the temporary on failure.
export async function writeAtomically(path: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function saveModel(model: Model, path: string, training?: TrainingState): Promise<void> {
  const h5 = await hdf5();
  await writeAtomically(path, (tmp) => {
    const f = new h5.File(tmp, 'w');
    try {
      f.create_attribute('model_config', JSON.stringify(toKerasConfig(model.getConfig())));
      f.create_attribute('keras_version', `simdnet ${packageVersion()}`);
      f.create_attribute('backend', 'simdnet (WebAssembly SIMD)');
      const mw = f.create_group('model_weights');
      const layers = model.layers.filter((l) => l.weights.length > 0);
      mw.create_attribute('layer_names', model.layers.map((l) => l.name));
      // Datasets are written straight from views of the model's memory, one at a time: a
      // ResNet-50 with Adam state is 280 MB that need not be copied into JavaScript first.
      const rt = model.core.runtime;
      const view = (base: number, offset: number, size: number) => rt.f32(base + 4 * offset, size);
      for (const layer of model.layers) {
        const g = mw.create_group(layer.name);
        g.create_attribute('weight_names', layer.weights.length ? layer.weights.map((w) => `${layer.name}/${w.name}:0`) : ['']);
        if (!layers.includes(layer)) continue;
        const inner = g.create_group(layer.name);
        for (const w of layer.weights) {
          const place = model.layout.byName.get(w.fullName)!;
          inner.create_dataset({ name: `${w.name}:0`, data: view(model.core.params, place.offset, w.size), shape: w.shape, dtype: '<f' });
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
            wg.create_dataset({ name: `${slotName}:0`, data: view(model.core.slots[k], s.offset, s.weight.size), shape: [s.weight.size], dtype: '<f' });
          }
        }
      }
      if (training) f.create_attribute('simdnet_training', JSON.stringify(training));
    } finally {
      f.close();
    }
  });
}

function attrJson(g: Group, name: string, path: string): unknown {
  const a = g.attrs[name];
  if (!a) return undefined;
  try {
    return JSON.parse(String(a.value));
  } catch {
    throw new ModelFileError(`simdnet: ${path}: attribute "${name}" is not valid JSON; the file is corrupt`);
  }
}

// Reads every weight of `model` from an open file into the model, one at a time, after checking
// that every weight is there with the model's shape (so a mismatch changes nothing).
function readWeightsInto(model: Model, f: Group, path: string): void {
  const mw = entityAt(f, 'model_weights') as Group | null;
  if (!mw || !('keys' in mw)) throw new ModelFileError(`simdnet: ${path}: no model_weights group; not a model file`);
  const found: [string, Dataset][] = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const d = entityAt(f, `model_weights/${layer.name}/${layer.name}/${w.name}:0`) as Dataset | null;
      if (!d || !('shape' in d)) {
        throw new ModelFileError(`simdnet: ${path} does not fit this model: it has no weight "${w.fullName}" (a model file from a different architecture?)`);
      }
      const shape = d.shape as number[];
      if (shape.join(',') !== w.shape.join(',')) {
        throw new ModelFileError(`simdnet: ${path} does not fit this model: weight "${w.fullName}" is (${shape.join(', ')}) in the file, ` +
          `(${w.shape.join(', ')}) in the model (a model file from a different architecture?)`);
      }
      found.push([w.fullName, d]);
    }
  }
  for (const [name, d] of found) {
    const v = readValue(d, path);
    if (!(v instanceof Float32Array)) throw new ModelFileError(`simdnet: ${path}: weight "${name}" is not float32`);
    model.setWeights({ [name]: v });
  }
}

export interface LoadedModel { model: Model; training?: TrainingState }

export async function loadModel(path: string, options: { runtime?: Runtime } = {}): Promise<LoadedModel> {
  const f = await openHdf5(path);
  try {
    const cfg = attrJson(f, 'model_config', path);
    if (cfg === undefined) throw new ModelFileError(`simdnet: ${path}: no model_config attribute; not a Keras/simdnet model file`);
    const model = Model.fromConfig(fromKerasConfig(cfg, path), { runtime: options.runtime, initialize: false });
    readWeightsInto(model, f, path);
    const tc = attrJson(f, 'training_config', path) as { optimizer_config?: { class_name: string; config: Record<string, number | boolean> }; loss?: string; metrics?: string[] } | undefined;
    if (tc?.optimizer_config && tc.loss) {
      const optimizer = optimizerFromConfig(tc.optimizer_config.class_name, tc.optimizer_config.config);
      model.compile({ optimizer, loss: lossFromConfig(tc.loss), metrics: tc.metrics });
      const og = entityAt(f, `optimizer_weights/${optimizer.className}`) as Group | null;
      if (og && 'keys' in og) {
        const it = entityAt(og, 'iterations:0') as Dataset | null;
        const iterations = it ? Number(readValue(it, path) as bigint) : 0;
        for (const s of model.layout.places) {
          if (!s.weight.trainable) continue;
          for (const slot of optimizer.slotNames) {
            const d = entityAt(og, `${s.weight.fullName}/${slot}:0`) as Dataset | null;
            if (!d) throw new ModelFileError(`simdnet: ${path}: optimizer state "${slot}" of "${s.weight.fullName}" is missing`);
            model.setOptimizerState({ [`${slot}/${s.weight.fullName}`]: readValue(d, path) as Float32Array }, iterations);
          }
        }
      }
    }
    const training = attrJson(f, 'simdnet_training', path) as TrainingState | undefined;
    return { model, training };
  } finally {
    f.close();
  }
}

// Loads the weights of a model file into an existing model of the same architecture.
export async function loadWeights(model: Model, path: string): Promise<void> {
  const f = await openHdf5(path);
  try {
    readWeightsInto(model, f, path);
  } finally {
    f.close();
  }
}

