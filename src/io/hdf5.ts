// h5wasm, loaded once, with errors that name the file.
import { FileError } from '../errors.js';
import h5wasm from 'h5wasm/node';
import type { Dataset, Entity, File as H5File, Group } from 'h5wasm/node';
import { existsSync, statSync } from 'node:fs';

let ready: Promise<typeof h5wasm> | undefined;

// HDF5 prints a diagnostic stack on stderr for every failure; this turns it into exceptions,
// which callers summarize (hdf5Reason) into one line that names the file.
export async function hdf5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
    return h5wasm;
  });
  return ready;
}

// The innermost cause of an HDF5 error, e.g. "File has been truncated".
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const minors = [...text.matchAll(/minor: (.*)/g)].map((m) => m[1].trim());
  return minors.length ? minors[minors.length - 1] : text.split('\n')[0];
}

// Opens an HDF5 file for reading, or throws an error that says what is wrong with it.
export async function openHdf5(path: string): Promise<H5File> {
  const h5 = await hdf5();
  if (!existsSync(path)) throw new FileError(`simdnet: ${path}: no such file`);
  if (!statSync(path).isFile()) throw new FileError(`simdnet: ${path}: not a file`);
  let f: H5File;
  try {
    f = new h5.File(path, 'r');
  } catch (err) {
    throw new FileError(`simdnet: ${path}: not a readable HDF5 file (${hdf5Reason(err)})`);
  }
  // h5wasm reports some failures as a file id of 0 or a negative id rather than throwing.
  if (!f || !(f.file_id > 0n)) throw new FileError(`simdnet: ${path}: not a readable HDF5 file (truncated or corrupt)`);
  return f;
}

export function datasetIn(f: H5File, path: string, name: string): Dataset {
  let d: unknown;
  try {
    d = f.get(name);
  } catch (err) {
    throw new FileError(`simdnet: ${path}: cannot read "${name}" (${hdf5Reason(err)}); the file may be truncated or corrupt`);
  }
  if (!(d instanceof h5wasm.Dataset)) throw new FileError(`simdnet: ${path}: has no dataset "${name}" (it has ${f.keys().join(', ') || 'nothing'})`);
  return d;
}

export function readValue(d: Dataset, path: string): unknown {
  try {
    return d.value;
  } catch (err) {
    throw new FileError(`simdnet: ${path}: cannot read "${d.path}" (${hdf5Reason(err)}); the file may be truncated or corrupt`);
  }
}

// The object at `path` under `g`, or null when there is none (h5wasm throws for missing paths).
export function entityAt(g: Group, path: string): Entity | null {
  try {
    return g.get(path);
  } catch {
    return null;
  }
}
