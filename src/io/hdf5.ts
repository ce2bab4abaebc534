// HDF5 files. Writing uses h5wasm on the calling thread (simdnet writes what it knows); reading
// goes through a worker thread with a deadline, since HDF5 can loop forever on some corrupt
// metadata and a loop on the calling thread could never be stopped. Errors name the file.

import { platform } from '#platform';
import { FileError, SimdnetError } from '../errors.js';
import type { FileErrorKind, Hdf5Writer, MessageWorker } from '../platform/platform.js';
import { isFileSource, sourceBytes, sourceName, type FileSource } from './file-source.js';
import type { H5Entry, H5Request, H5RequestBody, H5Response } from './hdf5-protocol.js';

export type { H5Entry } from './hdf5-protocol.js';
export { hdf5Reason } from './hdf5-protocol.js';

let writer: Promise<Hdf5Writer> | undefined;

/**
 * h5wasm for writing, on the calling thread. HDF5 prints a diagnostic stack for every failure;
 * the platform turns it into exceptions, which callers summarize (hdf5Reason) into one line
 * that names the file.
 */
export function hdf5Writer(): Promise<Hdf5Writer> {
  return (writer ??= platform.hdf5Writer());
}

// Files given as bytes are read whole into the reader; this caps them (a ResNet-50 with its
// optimizer state is 283 MB).
const MAX_HDF5_BYTES = 2 ** 31;

// How long a read may take before the file is declared unreadable: metadata is small; data
// gets time in proportion to its size.
const OPEN_DEADLINE_MS = 4_000;
const readDeadline = (bytes: number) => 10_000 + bytes / (20 * 2 ** 20) * 1000;


// The one reading worker, started on first use; replaced when a read overruns its deadline.
class ReaderThread {
  private worker?: MessageWorker<H5Request, H5Response>;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: H5Response) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();

  private start(): MessageWorker<H5Request, H5Response> {
    if (this.worker) return this.worker;
    const w = platform.hdf5Reader<H5Request, H5Response>();
    w.onMessage((r) => {
      const p = this.waiting.get(r.id);
      if (!p) return;
      this.waiting.delete(r.id);
      clearTimeout(p.timer);
      if (this.waiting.size === 0) w.hold(false);
      p.resolve(r);
    });
    w.onFailure((err) => {
      for (const p of this.waiting.values()) { clearTimeout(p.timer); p.reject(err); }
      this.waiting.clear();
      if (this.worker === w) this.worker = undefined;
    });
    this.worker = w;
    return w;
  }

  request(r: H5RequestBody, deadlineMs: number, late: () => Error, transfer: ArrayBuffer[] = []): Promise<H5Response> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The worker is stuck inside HDF5: stop it; the next read starts another.
        this.waiting.delete(id);
        if (this.worker === w) this.worker = undefined;
        w.terminate();
        reject(late());
      }, deadlineMs);
      this.waiting.set(id, { resolve, reject, timer });
      w.hold(true);
      w.post({ ...r, id }, transfer);
    });
  }
}

const reader = new ReaderThread();

/**
 * An HDF5 file open for reading: its whole structure (groups, datasets, shapes, attributes) read
 * once; dataset values read on demand.
 */
export class Hdf5File {
  private constructor(readonly path: string, readonly size: number, private readonly handle: number, private readonly entries: Record<string, H5Entry>,
    private readonly Kind: FileErrorKind) {}

  /**
   * `source`: a path (Node), or the file's bytes (ArrayBuffer, Uint8Array, Blob or File);
   * `name` is what messages call bytes without a name of their own.
   */
  static async open(source: FileSource, Kind: FileErrorKind = FileError, name = 'the HDF5 bytes'): Promise<Hdf5File> {
    let body: H5RequestBody, size: number, transfer: ArrayBuffer[] = [];
    const path = sourceName(source, name);
    if (typeof source === 'string') {
      if (!platform.files.exists(source)) throw new Kind(`simdnet: ${path}: no such file`);
      if (!platform.files.isFile(source)) throw new Kind(`simdnet: ${path}: not a file`);
      body = { op: 'open', path: source };
      size = platform.files.size(source);
    } else {
      if (!isFileSource(source)) throw new Kind(`simdnet: ${name}: expected a path, bytes, a Blob or a File, got ${Object.prototype.toString.call(source)}`);
      // A copy goes to the reader, so the caller's bytes stay theirs.
      const bytes = (await sourceBytes(source, MAX_HDF5_BYTES, 'HDF5 file', Kind, name)).slice();
      body = { op: 'open', bytes };
      size = bytes.length;
      transfer = [bytes.buffer];
    }
    const r = await reader.request(body, OPEN_DEADLINE_MS,
      () => new Kind(`simdnet: ${path}: reading its structure took longer than ${OPEN_DEADLINE_MS / 1000} s; the file is corrupt`), transfer);
    if (r.error || r.handle === undefined || !r.entries) throw new Kind(`simdnet: ${path}: ${r.error ?? 'not a readable HDF5 file'}`);
    return new Hdf5File(path, size, r.handle, r.entries, Kind);
  }

  entry(path: string): H5Entry | undefined {
    return Object.hasOwn(this.entries, path) ? this.entries[path] : undefined;
  }

  /** The dataset at `path`, or an error naming the file and what it has instead. */
  dataset(path: string): H5Entry {
    const e = this.entry(path);
    if (!e || e.kind !== 'dataset') {
      const have = this.entries['']?.children ?? [];
      throw new this.Kind(`simdnet: ${this.path}: has no dataset "${path}" (it has ${have.join(', ') || 'nothing'})`);
    }
    return e;
  }

  attr(path: string, name: string): unknown {
    const e = this.entry(path);
    return e && Object.hasOwn(e.attrs, name) ? e.attrs[name] : undefined;
  }

  /** The values of a dataset: a typed array (BigInt64Array for int64), or a scalar. */
  async read(path: string): Promise<unknown> {
    const e = this.dataset(path);
    const bytes = (e.shape ?? []).reduce((a, b) => a * b, 1) * (e.size ?? 8);
    const r = await reader.request({ op: 'read', handle: this.handle, dataset: path }, readDeadline(bytes),
      () => new this.Kind(`simdnet: ${this.path}: reading "${path}" took too long; the file is corrupt`));
    if (r.error) throw new this.Kind(`simdnet: ${this.path}: ${r.error}`);
    return r.value;
  }

  async close(): Promise<void> {
    try {
      await reader.request({ op: 'close', handle: this.handle }, OPEN_DEADLINE_MS, () => new SimdnetError('closing took too long'));
    } catch {
      // The reader was restarted: the file is closed with it.
    }
  }
}
