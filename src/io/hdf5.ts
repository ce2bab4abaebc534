// h5wasm, loaded once, with errors that name the file.
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File } from 'h5wasm/node';
import { existsSync, statSync } from 'node:fs';

let ready: Promise<typeof h5wasm> | undefined;

export async function hdf5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready.then(() => h5wasm);
  return ready;
}

// Opens an HDF5 file for reading, or throws an error that says what is wrong with it.
export async function openHdf5(path: string): Promise<H5File> {
  const h5 = await hdf5();
  if (!existsSync(path)) throw new Error(`simdnet: ${path}: no such file`);
  if (!statSync(path).isFile()) throw new Error(`simdnet: ${path}: not a file`);
  let f: H5File;
  try {
    f = new h5.File(path, 'r');
  } catch (err) {
    throw new Error(`simdnet: ${path}: not a readable HDF5 file (${(err as Error).message})`);
  }
  // h5wasm reports some failures as a file id of 0 or a negative id rather than throwing.
  if (!f || !(f.file_id > 0n)) throw new Error(`simdnet: ${path}: not a readable HDF5 file (truncated or corrupt)`);
  return f;
}

export function datasetIn(f: H5File, path: string, name: string): Dataset {
  let d: unknown;
  try {
    d = f.get(name);
  } catch (err) {
    throw new Error(`simdnet: ${path}: cannot read "${name}" (${(err as Error).message}); the file may be truncated or corrupt`);
  }
  if (!(d instanceof h5wasm.Dataset)) throw new Error(`simdnet: ${path}: has no dataset "${name}" (it has ${f.keys().join(', ') || 'nothing'})`);
  return d;
}

export function readValue(d: Dataset, path: string): unknown {
  try {
    return d.value;
  } catch (err) {
    throw new Error(`simdnet: ${path}: cannot read "${d.path}" (${(err as Error).message}); the file may be truncated or corrupt`);
  }
}
