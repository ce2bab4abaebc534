// The SIGNS dataset (hand signs for 0-5, 64x64 RGB): train_signs.h5 and test_signs.h5 as the
// deep-learning course ships them, pixels scaled to [0, 1] and labels one-hot.

import { platform } from '#platform';
import { DataFileError } from '../errors.js';
import { ImageSet } from './image-set.js';
import type { FileSource } from '../io/file-source.js';
import { Hdf5File } from '../io/hdf5.js';

const { join, resolve, exists: existsSync } = platform.files;

export const SIGNS_CLASSES = 6;
/** Classes a data file may imply by its largest label. */
export const MAX_CLASSES = 10_000;
export const SIGNS_FILES = ['train_signs.h5', 'test_signs.h5'];

/** Kept for programs written against the first API: the sets are ImageSets (x, y, labels). */
export type LabeledImages = ImageSet;

/** The SIGNS training and test sets (1080 and 120 images of 64x64, six classes). */
export interface SignsData {
  train: ImageSet;
  test: ImageSet;
  classes: number[];
  dir: string;
}

/** SIGNS's classes are the number of fingers shown. */
export const SIGNS_CLASS_NAMES = ['0', '1', '2', '3', '4', '5'];

/**
 * Where the SIGNS files are: --data, then SIMDNET_DATA, then ./data/signs, then ../shared/data/signs
 * (from the working directory, then from the package). Throws, listing the places it looked.
 */
export function findSignsDir(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit !== undefined) candidates.push(resolve(explicit));
  else {
    const env = platform.setting('SIMDNET_DATA');
    if (env) candidates.push(resolve(env));
    for (const base of platform.files.searchRoots()) {
      candidates.push(resolve(base, 'data/signs'), resolve(base, '../shared/data/signs'));
    }
  }
  const unique = [...new Set(candidates)];
  for (const dir of unique) if (SIGNS_FILES.every((f) => existsSync(join(dir, f)))) return dir;
  throw new DataFileError(`simdnet: cannot find the SIGNS data (${SIGNS_FILES.join(' and ')}). Looked in:\n` +
    unique.map((d) => `  ${d}`).join('\n') + '\nPass --data DIR or set SIMDNET_DATA to the folder that holds them.');
}


// HDF5 type classes, as h5wasm's metadata reports them.
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

function describe(m: { type?: number; size?: number; signed?: boolean }): string {
  if (m.type === H5T_INTEGER) return `${m.signed ? 'int' : 'uint'}${8 * (m.size ?? 0)}`;
  if (m.type === H5T_FLOAT) return `float${8 * (m.size ?? 0)}`;
  return `HDF5 type class ${m.type}`;
}

// Labels as int32, checked on their full width first: an int64 label of 2^32 must not wrap to 0.
function toInts(v: unknown, path: string, name: string, classes: number): Int32Array {
  const bad = (value: bigint | number, i: number) =>
    new DataFileError(`simdnet: ${path}: label ${value} of image ${i} is out of range (expected 0 to ${classes - 1})`);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const out = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (v[i] < 0n || v[i] >= BigInt(classes)) throw bad(v[i], i);
      out[i] = Number(v[i]);
    }
    return out;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    const a = v as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (!(a[i] >= 0 && a[i] < classes)) throw bad(a[i], i);
    return Int32Array.from(a);
  }
  throw new DataFileError(`simdnet: ${path}: "${name}" must hold integers`);
}

/** What a data file may declare: 2^31 pixel bytes (a 64x64 dataset of 170,000 images). */
export const MAX_DATASET_BYTES = 2 ** 31;

/**
 * One split of a SIGNS-layout file: `{prefix}_x` uint8 (N, height, width, 3), `{prefix}_y` int
 * (N,), and optionally `list_classes` (one entry per class). The class count is `classes` when
 * given, else list_classes's length, else the largest label + 1.
 */
export async function loadSignsFile(source: FileSource, prefix: 'train_set' | 'test_set', classes?: number): Promise<ImageSet> {
  const f = await Hdf5File.open(source, DataFileError, `the ${prefix.replace('_set', '')} file`);
  const path = f.path;
  try {
    const dx = f.dataset(`${prefix}_x`), dy = f.dataset(`${prefix}_y`);
    let listed: number | undefined;
    if (f.entry('list_classes')) {
      const shape = f.dataset('list_classes').shape;
      if (!shape || shape.length !== 1 || shape[0] < 1) throw new DataFileError(`simdnet: ${path}: "list_classes" must be a list of classes, got shape (${shape?.join(', ')})`);
      listed = shape[0];
    }
    const xs = dx.shape!, ys = dy.shape!;
    if (xs.length !== 4 || xs[3] !== 3 || xs[1] < 1 || xs[2] < 1) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_x" has shape (${xs.join(', ')}); expected (N, height, width, 3)`);
    }
    if (dx.type !== H5T_INTEGER || dx.size !== 1 || dx.signed) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_x" has dtype ${describe(dx)}; expected uint8 pixels`);
    }
    if (ys.length !== 1 || ys[0] !== xs[0]) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_y" has shape (${ys.join(', ')}); expected (${xs[0]},), one label per image`);
    }
    if (dy.type !== H5T_INTEGER) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_y" has dtype ${describe(dy)}; expected integer labels`);
    }
    // A file cannot hold more uncompressed data than its size (a sparse 2 KB file may declare
    // 100,000 images): check before reading anything.
    const declared = xs.reduce((a, b) => a * b, 1);
    if (declared > MAX_DATASET_BYTES) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_x" declares ${declared.toLocaleString('en-US')} bytes of pixels, over the ${MAX_DATASET_BYTES / 2 ** 30} GiB limit`);
    }
    const size = f.size;
    if (dx.filters === 0 && declared > size) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_x" declares ${xs[0]} images (${declared.toLocaleString('en-US')} bytes), more than the ${size.toLocaleString('en-US')}-byte file holds; the file is corrupt or truncated`);
    }
    const pixels = await f.read(`${prefix}_x`) as Uint8Array;
    if (!(pixels instanceof Uint8Array) || pixels.length !== xs.reduce((a, b) => a * b, 1)) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_x" could not be read whole; the file may be truncated`);
    }
    const raw = await f.read(`${prefix}_y`);
    if (!ArrayBuffer.isView(raw) || (raw as unknown as ArrayLike<number>).length !== xs[0]) {
      throw new DataFileError(`simdnet: ${path}: "${prefix}_y" could not be read whole; the file may be truncated`);
    }
    let K = classes ?? listed;
    if (K === undefined) {
      // The largest label sets the class count, up to a limit (a list_classes dataset can say more).
      const values = Array.from(raw as unknown as ArrayLike<number | bigint>);
      let top = 0;
      for (const [i, v] of values.entries()) {
        if (v < 0 || v >= MAX_CLASSES) {
          throw new DataFileError(`simdnet: ${path}: label ${v} of image ${i} is out of range (0 to ${MAX_CLASSES - 1} without a list_classes dataset)`);
        }
        top = Math.max(top, Number(v));
      }
      K = Math.max(2, top + 1);
    }
    const labels = toInts(raw, path, `${prefix}_y`, K);
    const names = K === SIGNS_CLASSES ? SIGNS_CLASS_NAMES : Array.from({ length: K }, (_, k) => String(k));
    return new ImageSet(pixels, xs, labels, names);
  } finally {
    await f.close();
  }
}

/**
 * Both splits: from `dir` or the first place findSignsDir finds them (Node), or from the two
 * files' bytes, Blobs or Files (`{ train, test }`, as a page's file picker gives them).
 */
export async function loadSigns(dir?: string | { train: FileSource; test: FileSource }): Promise<SignsData> {
  if (dir !== undefined && typeof dir !== 'string') {
    const train = await loadSignsFile(dir.train, 'train_set');
    const test = await loadSignsFile(dir.test, 'test_set', train.classes);
    return { train, test, classes: train.classNames.map((_, k) => k), dir: '' };
  }
  const d = findSignsDir(dir);
  const train = await loadSignsFile(join(d, 'train_signs.h5'), 'train_set');
  const test = await loadSignsFile(join(d, 'test_signs.h5'), 'test_set', train.classes);
  return { train, test, classes: train.classNames.map((_, k) => k), dir: d };
}
