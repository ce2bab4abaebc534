// Labeled images from class folders, the layout of Keras's image_dataset_from_directory:
//
//   DIR/<class name>/**/*.jpg|jpeg|png
//
// Class names are the folder names, sorted; labels follow that order. Images in subfolders of a
// class folder belong to that class (as Keras walks them); files that are not JPEG or PNG by
// extension are ignored, as Keras ignores them. Images are decoded in worker threads, resized to
// one size and kept as uint8.
//
// In a page the folder is what <input type="file" webkitdirectory> gives: Files whose
// webkitRelativePath is "DIR/<class name>/.../<file>".

import { platform } from '#platform';
import { AbortedError, DataFileError } from '../errors.js';
import type { DecodeReply, DecodeTask } from './decode-worker.js';
import { decodeImageSource, resizeRgb } from './images.js';
import { ImageSet } from './image-set.js';

const files = platform.files;
const extname = (name: string) => files.extension(name);
const join = (...parts: string[]) => files.join(...parts);

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

/** Options of loadImageFolder. */
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
  /** Follow symbolic links that lead outside the folder (or a class folder). Default false: refused, naming the link. */
  followLinksOutside?: boolean;
  /** Bytes decoding one image may take, judged from its header before decoding. Default 256 MiB. */
  maxDecodeBytes?: number;
  /** Stops the loading (Ctrl-C): it then rejects with an AbortedError. */
  signal?: AbortSignal;
}

/** What loadImageFolder returns: the images, and the files it skipped with the reason. */
export interface LoadedImageFolder {
  images: ImageSet;
  skipped: { file: string; reason: string }[];
}

const isDir = (p: string) => files.isDirectory(p);

/**
 * The class folders of `dir`, sorted, with their image files; throws naming what is missing.
 * Each class folder is walked by the one folder walker (platform.files.walk): links followed
 * once per real path and never out of the class folder; a class folder that is a link must stay
 * inside `dir`. Unless followLinksOutside.
 */
export async function listClassFolders(dir: string, followLinksOutside = false): Promise<{ className: string; files: string[] }[]> {
  if (!files.exists(dir)) throw new DataFileError(`simdnet: image folder ${dir}: no such folder`);
  if (!isDir(dir)) throw new DataFileError(`simdnet: image folder ${dir}: not a folder`);
  const names = files.list(dir, DataFileError);
  const classes = names.filter((n) => !n.startsWith('.') && isDir(join(dir, n))).sort();
  if (classes.length === 0) {
    const loose = names.some((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()));
    throw new DataFileError(`simdnet: image folder ${dir} holds no class folders${loose ? ' (its images must be in one folder per class, e.g. DIR/cat/1.jpg)' : ''}`);
  }
  const top = files.realpath(dir)!;
  const out = [];
  for (const c of classes) {
    const at = join(dir, c), real = files.realpath(at);
    if (!followLinksOutside && (real === undefined || !(real + '/').startsWith(top.replace(/\/?$/, '/')) || real === top)) {
      throw new DataFileError(`simdnet: class folder ${at} is a symbolic link that leads outside the image folder ${dir} (to ${real}); remove it, or allow links outside (--follow-links)`);
    }
    const found = await files.walk(at, { extensions: IMAGE_EXTENSIONS, followLinksOutside, what: 'class folder', Kind: DataFileError });
    if (found.length === 0) throw new DataFileError(`simdnet: class folder ${at} holds no JPEG or PNG images`);
    out.push({ className: c, files: found });
  }
  return out;
}

/**
 * The class folders of a page's folder pick (webkitRelativePath "DIR/<class>/.../<file>"), as
 * listClassFolders gives them for a path.
 */
export function classFoldersOfFiles(picked: ArrayLike<File>): { className: string; files: File[] }[] {
  const byClass = new Map<string, File[]>();
  let loose = 0;
  for (const f of Array.from(picked)) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    if (parts.some((p) => p.startsWith('.')) || !IMAGE_EXTENSIONS.includes(extname(f.name).toLowerCase())) continue;
    if (parts.length < 3) { loose++; continue; }
    const list = byClass.get(parts[1]) ?? [];
    list.push(f);
    byClass.set(parts[1], list);
  }
  if (byClass.size === 0) {
    throw new DataFileError(`simdnet: the chosen folder holds no class folders${loose ? ' (its images must be in one folder per class, e.g. DIR/cat/1.jpg)' : ''}`);
  }
  return [...byClass.keys()].sort().map((className) => ({
    className,
    files: byClass.get(className)!.sort((a, b) => (a.webkitRelativePath < b.webkitRelativePath ? -1 : a.webkitRelativePath > b.webkitRelativePath ? 1 : 0)),
  }));
}

const CHUNK = 64;

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('simdnet: stopped while reading the images');
}

/**
 * Labeled images from class folders: a folder's path (Node), or the Files of a page's folder
 * pick (`<input type="file" webkitdirectory>`).
 */
export async function loadImageFolder(source: string | ArrayLike<File>, options: ImageFolderOptions = {}): Promise<LoadedImageFolder> {
  const size = options.imageSize ?? 64;
  const [height, width] = Array.isArray(size) ? size : [size, size];
  if (![height, width].every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
    throw new DataFileError(`simdnet: image size must be whole numbers from 1 to 4096, got ${JSON.stringify(size)}`);
  }
  const picked = typeof source !== 'string';
  const dir = picked ? (source.length ? (source[0].webkitRelativePath || source[0].name).split('/')[0] : 'the chosen folder') : source;
  const folders: { className: string; files: (string | File)[] }[] = picked ? classFoldersOfFiles(source) : await listClassFolders(source, options.followLinksOutside);
  const classNames = options.classNames ?? folders.map((f) => f.className);
  if (!options.classNames && classNames.length < 2) {
    throw new DataFileError(`simdnet: image folder ${dir} has one class folder (${classNames[0]}); a classifier needs at least two`);
  }
  const images: (string | File)[] = [];
  const labels: number[] = [];
  for (const f of folders) {
    const label = classNames.indexOf(f.className);
    if (label < 0) throw new DataFileError(`simdnet: class folder ${join(dir, f.className)} is not one of the model's classes (${classNames.join(', ')})`);
    for (const file of f.files) {
      images.push(file);
      labels.push(label);
    }
  }
  const per = height * width * 3;
  const bad = new Map<number, string>();
  const names = images.map((f) => (typeof f === 'string' ? f : f.webkitRelativePath || f.name));
  let pixels: Uint8Array;
  if (picked) {
    // A page decodes on its own thread: JPEG in JavaScript, PNG by the browser's decoder.
    pixels = new Uint8Array(images.length * per);
    for (const [i, f] of images.entries()) {
      try {
        pixels.set(resizeRgb(await decodeImageSource(f, names[i], options.maxDecodeBytes), height, width), i * per);
      } catch (err) {
        bad.set(i, (err as Error).message.replace(/^simdnet: /, ''));
      }
      if (i % CHUNK === CHUNK - 1 || i === images.length - 1) options.progress?.(i + 1, images.length);
      stopIfAborted(options.signal);
    }
  } else {
    pixels = await decodeFiles(images as string[], height, width, bad, options);
  }
  const files = names;
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

// Decodes files by path into one buffer, on worker threads (which write each image straight
// into it) when there are several chunks and cores.
async function decodeFiles(files: string[], height: number, width: number, bad: Map<number, string>, options: ImageFolderOptions): Promise<Uint8Array> {
  const shared = new SharedArrayBuffer(files.length * height * width * 3);
  const chunks = Array.from({ length: Math.ceil(files.length / CHUNK) }, (_, c) => c * CHUNK);
  let done = 0;
  const task = (first: number): DecodeTask => ({ files: files.slice(first, first + CHUNK), first, height, width, pixels: shared, maxDecodeBytes: options.maxDecodeBytes });
  const take = (first: number, r: DecodeReply) => {
    for (const f of r.failed) bad.set(f.index, f.reason);
    done += Math.min(CHUNK, files.length - first);
    options.progress?.(done, files.length);
  };
  const threads = Math.min(options.threads ?? Math.min(platform.cores(), 8), chunks.length);
  const pool = threads > 1 ? platform.decodePool<DecodeTask, DecodeReply>(threads) : undefined;
  if (!pool) {
    const { default: decode } = await import('./decode-worker.js');
    for (const first of chunks) {
      stopIfAborted(options.signal);
      take(first, decode(task(first)));
    }
  } else {
    // Chunks go to the workers as they free up, so that a stop takes effect within one chunk.
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        stopIfAborted(options.signal);
        const first = chunks[next++];
        take(first, await pool.run(task(first)));
      }
    };
    // A stop does not wait for the chunks under way: the pool is torn down.
    const stopped = new Promise<never>((_, reject) => options.signal?.addEventListener('abort', () => reject(new AbortedError('simdnet: stopped while reading the images')), { once: true }));
    try {
      await Promise.race([Promise.all(Array.from({ length: threads }, worker)), stopped]);
    } finally {
      await pool.destroy();
    }
  }
  stopIfAborted(options.signal);
  return new Uint8Array(shared);
}
