// Labeled images from class folders, the layout of Keras's image_dataset_from_directory:
//
//   DIR/<class name>/**/*.jpg|jpeg|png
//
// Class names are the folder names, sorted; labels follow that order. Images in subfolders of a
// class folder belong to that class (as Keras walks them); files that are not JPEG or PNG by
// extension are ignored, as Keras ignores them. Images are decoded in worker threads, resized to
// one size and kept as uint8.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Piscina } from 'piscina';
import { DataFileError } from '../errors.js';
import { packageRoot } from '../package.js';
import type { DecodeReply, DecodeTask } from './decode-worker.js';
import { ImageSet } from './image-set.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

export interface ImageFolderOptions {
  /** Height and width every image is resized to: `n` or `[height, width]`. Default 64. */
  imageSize?: number | [number, number];
  /** Skip the files that cannot be decoded (listed in the result) instead of failing. Default false. */
  skipBadImages?: boolean;
  /** The class names to label with, in label order (a trained model's); the folders must be among them. Default: the folder names, sorted. */
  classNames?: string[];
  /** Decoding threads. Default: the available cores, up to 8. */
  threads?: number;
  /** Called as images are decoded. */
  progress?: (done: number, total: number) => void;
}

export interface LoadedImageFolder {
  images: ImageSet;
  skipped: { file: string; reason: string }[];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// Every image file under `dir`, sorted, walking subfolders.
function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (err) {
      throw new DataFileError(`simdnet: cannot read folder ${d}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (isDir(p)) walk(p);
      else if (IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

// The class folders of `dir`, sorted, with their image files; throws naming what is missing.
export function listClassFolders(dir: string): { className: string; files: string[] }[] {
  if (!existsSync(dir)) throw new DataFileError(`simdnet: image folder ${dir}: no such folder`);
  if (!isDir(dir)) throw new DataFileError(`simdnet: image folder ${dir}: not a folder`);
  const classes = readdirSync(dir).filter((n) => !n.startsWith('.') && isDir(join(dir, n))).sort();
  if (classes.length === 0) {
    const loose = readdirSync(dir).some((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()));
    throw new DataFileError(`simdnet: image folder ${dir} holds no class folders${loose ? ' (its images must be in one folder per class, e.g. DIR/cat/1.jpg)' : ''}`);
  }
  return classes.map((c) => {
    const files = imagesUnder(join(dir, c));
    if (files.length === 0) throw new DataFileError(`simdnet: class folder ${join(dir, c)} holds no JPEG or PNG images`);
    return { className: c, files };
  });
}

function decodeWorker(): string {
  return join(packageRoot(), 'dist', 'src', 'data', 'decode-worker.js');
}

const CHUNK = 64;

export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<LoadedImageFolder> {
  const size = options.imageSize ?? 64;
  const [height, width] = Array.isArray(size) ? size : [size, size];
  if (![height, width].every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
    throw new DataFileError(`simdnet: image size must be whole numbers from 1 to 4096, got ${JSON.stringify(size)}`);
  }
  const folders = listClassFolders(dir);
  const classNames = options.classNames ?? folders.map((f) => f.className);
  if (!options.classNames && classNames.length < 2) {
    throw new DataFileError(`simdnet: image folder ${dir} has one class folder (${classNames[0]}); a classifier needs at least two`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const f of folders) {
    const label = classNames.indexOf(f.className);
    if (label < 0) throw new DataFileError(`simdnet: class folder ${join(dir, f.className)} is not one of the model's classes (${classNames.join(', ')})`);
    for (const file of f.files) {
      files.push(file);
      labels.push(label);
    }
  }
  const per = height * width * 3;
  // Workers write each image straight into this buffer.
  const shared = new SharedArrayBuffer(files.length * per);
  const pixels = new Uint8Array(shared);
  const bad = new Map<number, string>();
  const chunks = Array.from({ length: Math.ceil(files.length / CHUNK) }, (_, c) => c * CHUNK);
  let done = 0;
  const task = (first: number): DecodeTask => ({ files: files.slice(first, first + CHUNK), first, height, width, pixels: shared });
  const take = (first: number, r: DecodeReply) => {
    for (const f of r.failed) bad.set(f.index, f.reason);
    done += Math.min(CHUNK, files.length - first);
    options.progress?.(done, files.length);
  };
  const threads = Math.min(options.threads ?? Math.min(availableParallelism(), 8), chunks.length);
  if (threads <= 1 || !existsSync(decodeWorker())) {
    const { default: decode } = await import('./decode-worker.js');
    for (const first of chunks) take(first, decode(task(first)));
  } else {
    // Small young generations: decoding makes short-lived garbage, and each worker's heap counts
    // against the 2x-the-pixels budget of a large folder.
    const pool = new Piscina({ filename: decodeWorker(), minThreads: threads, maxThreads: threads, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    try {
      await Promise.all(chunks.map(async (first) => take(first, await pool.run(task(first)) as DecodeReply)));
    } finally {
      await pool.destroy();
    }
  }
  const skipped = [...bad.entries()].sort((a, b) => a[0] - b[0]).map(([i, reason]) => ({ file: files[i], reason }));
  if (skipped.length && !options.skipBadImages) {
    throw new DataFileError(`simdnet: ${skipped[0].reason}${skipped.length > 1 ? ` (and ${skipped.length - 1} more bad images; --skip-bad-images skips them)` : ' (--skip-bad-images skips such files)'}`);
  }
  if (skipped.length === 0) return { images: new ImageSet(pixels, [files.length, height, width, 3], Int32Array.from(labels), classNames, files), skipped };
  // Compact the good images.
  const keep = files.map((_, i) => i).filter((i) => !bad.has(i));
  if (keep.length === 0) throw new DataFileError(`simdnet: image folder ${dir}: no image could be decoded`);
  const kept = new Uint8Array(keep.length * per);
  keep.forEach((i, j) => kept.set(pixels.subarray(i * per, (i + 1) * per), j * per));
  return {
    images: new ImageSet(kept, [keep.length, height, width, 3], Int32Array.from(keep, (i) => labels[i]), classNames, keep.map((i) => files[i])),
    skipped,
  };
}
