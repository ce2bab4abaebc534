// Where a file's bytes come from: a path (Node), or the bytes themselves, as an ArrayBuffer, a
// typed array, or a Blob or File (a page's <input type="file">, fetch's response.blob()).

import { platform } from '#platform';
import { ArgumentError, FileError } from '../errors.js';
import type { FileErrorKind } from '../platform/platform.js';

/** A file as a path (Node, Bun, Deno) or as its bytes (any platform; a page's File is a Blob). */
export type FileSource = string | Uint8Array | ArrayBuffer | Blob;

/** What messages call the file: its path, a File's name, or `fallback`. */
export function sourceName(src: FileSource, fallback: string): string {
  if (typeof src === 'string') return src;
  const name = (src as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : fallback;
}

export function isFileSource(v: unknown): v is FileSource {
  return typeof v === 'string' || v instanceof Uint8Array || v instanceof ArrayBuffer || (typeof Blob !== 'undefined' && v instanceof Blob);
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

/** The whole file, at most maxBytes, or a `Kind` error naming it. */
export async function sourceBytes(src: FileSource, maxBytes: number, what: string, Kind: FileErrorKind = FileError, fallback = 'the given bytes'): Promise<Uint8Array> {
  if (typeof src === 'string') return platform.files.readInputFile(src, maxBytes, what, Kind);
  if (!isFileSource(src)) throw new ArgumentError(`${what}: expected a path, bytes (ArrayBuffer or Uint8Array), a Blob or a File; got ${Object.prototype.toString.call(src)}`);
  const size = src instanceof Uint8Array || src instanceof ArrayBuffer ? src.byteLength : (src as Blob).size;
  if (size > maxBytes) throw new Kind(`simdnet: ${what} ${sourceName(src, fallback)}: ${mib(size)}, over the ${mib(maxBytes)} limit`);
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  try {
    return new Uint8Array(await (src as Blob).arrayBuffer());
  } catch (err) {
    throw new Kind(`simdnet: cannot read ${what} ${sourceName(src, fallback)}: ${(err as Error).message}`);
  }
}
