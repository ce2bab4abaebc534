// Where `train` and `evaluate` get their images: the SIGNS files, or folders of class folders
// (Keras's image_dataset_from_directory layout), found from --data, --test and the defaults.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../errors.js';
import { loadImageFolder } from '../data/image-folder.js';
import type { ImageSet } from '../data/image-set.js';
import { findSignsDir, loadSigns, SIGNS_FILES } from '../data/signs.js';
import { ProgressBar, stdoutSink } from '../training/progress.js';
import { holdOut } from '../recipes/recipe-fit.js';
import { UsageError } from './options.js';

export interface TrainingData {
  train: ImageSet;
  validation?: ImageSet;  // --validation-split of the training images
  test?: ImageSet;
  source: string;         // what was read, for the log and the report
}

export interface DataOptions {
  data?: string;            // SIGNS folder, a folder of class folders, or one with train/ and test/
  test?: string;            // a folder of class folders to test on
  validationSplit?: number; // fraction of the training images held out for validation
  imageSize?: number;       // images resized to this (default: image folders 64, SIGNS as stored)
  skipBadImages?: boolean;
  classNames?: string[];    // label with these (a trained model's classes)
  seed?: number;            // shuffles the images before the validation split
  followLinks?: boolean;    // follow symbolic links that lead outside the folders
  maxDecodeBytes?: number;  // what decoding one image may take
  signal?: AbortSignal;     // Ctrl-C: stops the loading
  quiet?: boolean;
  log: (s: string) => void;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isSignsDir = (d: string) => SIGNS_FILES.every((f) => existsSync(join(d, f)));

async function folder(dir: string, o: DataOptions, what: string): Promise<ImageSet> {
  const bar = o.quiet ? undefined : { bar: undefined as ProgressBar | undefined };
  const { images, skipped } = await loadImageFolder(dir, {
    imageSize: o.imageSize ?? 64, skipBadImages: o.skipBadImages, classNames: o.classNames, followLinksOutside: o.followLinks, maxDecodeBytes: o.maxDecodeBytes, signal: o.signal,
    progress: (done, total) => {
      if (!bar) return;
      bar.bar ??= new ProgressBar(total, stdoutSink);
      if (done < total) bar.bar.update(done, {});
      else bar.bar.finish({});
    },
  });
  for (const s of skipped) o.log(`skipped ${s.file}: ${s.reason}`);
  o.log(`${what}: ${images.size} images of ${images.classes} classes (${images.classNames.join(', ')}) from ${dir}` +
    (skipped.length ? `, ${skipped.length} skipped` : ''));
  return images;
}

// SIGNS's 64x64 images at the size asked for (bilinear, as image folders are resized).
function resized(set: ImageSet, o: DataOptions): ImageSet {
  const size = o.imageSize ?? set.height;
  if (size === set.height && size === set.width) return set;
  o.log(`SIGNS images resized from ${set.height}x${set.width} to ${size}x${size}`);
  return set.resized(size, size);
}

export async function loadTrainingData(o: DataOptions): Promise<TrainingData> {
  const v = o.validationSplit;
  // Checked before any image is decoded.
  if (v !== undefined && !(v > 0 && v < 1)) throw new UsageError(`--validation-split must be between 0 and 1, got ${v}`);
  let data: TrainingData;
  // A --data that is not there: the SIGNS search says where it looked.
  if (o.data === undefined || isSignsDir(o.data) || !existsSync(o.data)) {
    const signs = await loadSigns(o.data === undefined ? undefined : o.data);
    data = { train: resized(signs.train, o), test: resized(signs.test, o), source: `SIGNS (${findSignsDir(o.data)})` };
    if (o.test !== undefined) data.test = await folder(o.test, { ...o, classNames: signs.train.classNames }, 'test');
  } else {
    if (!isDir(o.data)) throw new DataFileError(`simdnet: --data ${o.data}: not a folder`);
    const split = isDir(join(o.data, 'train'));
    const trainDir = split ? join(o.data, 'train') : o.data;
    const train = await folder(trainDir, o, 'train');
    const testDir = o.test ?? (split && isDir(join(o.data, 'test')) ? join(o.data, 'test') : undefined);
    const test = testDir === undefined ? undefined : await folder(testDir, { ...o, classNames: train.classNames }, 'test');
    data = { train, test, source: trainDir };
  }
  if (v !== undefined) {
    // Files come sorted by class: a seeded shuffle, then the last fraction held out.
    try {
      const split = holdOut(data.train, v, o.seed ?? 0);
      data = { ...data, ...split };
    } catch (err) {
      throw new UsageError(`--validation-split ${v}: ${(err as Error).message.replace(/^simdnet: /, '')}`);
    }
  }
  return data;
}

/**
 * The images `evaluate` scores a model on: a SIGNS split, or a folder of class folders (or its
 * test/ folder), labeled with the model's classes.
 */
export async function loadEvaluationData(o: DataOptions & { split: 'train' | 'test' }): Promise<ImageSet> {
  if (o.data === undefined || isSignsDir(o.data) || !existsSync(o.data)) return resized((await loadSigns(o.data))[o.split], o);
  const dir = isDir(join(o.data, o.split)) ? join(o.data, o.split) : o.data;
  return folder(dir, o, o.split);
}
