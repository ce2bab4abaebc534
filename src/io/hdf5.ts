// HDF5 files. Writing uses h5wasm on the calling thread (simdnet writes what it knows); reading
// goes through a worker thread with a deadline, since HDF5 can loop forever on some corrupt
// metadata and a loop on the calling thread could never be stopped. Errors name the file.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import h5wasm from 'h5wasm/node';
import { FileError, SimdnetError } from '../errors.js';
import { packageRoot } from '../package.js';
import type { H5Entry, H5RequestBody, H5Response } from './hdf5-protocol.js';

export type { H5Entry } from './hdf5-protocol.js';
export { hdf5Reason } from './hdf5-protocol.js';

let ready: Promise<typeof h5wasm> | undefined;

// h5wasm for writing. HDF5 prints a diagnostic stack on stderr for every failure; this turns it
// into exceptions, which callers summarize (hdf5Reason) into one line that names the file.
export async function hdf5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
    return h5wasm;
  });
  return ready;
}

// How long a read may take before the file is declared unreadable: metadata is small; data
// gets time in proportion to its size.
const OPEN_DEADLINE_MS = 4_000;
const readDeadline = (bytes: number) => 10_000 + bytes / (20 * 2 ** 20) * 1000;

type FileErrorKind = new (message: string) => FileError;

// The one reading worker, started on first use; replaced when a read overruns its deadline.
class ReaderThread {
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: H5Response) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const file = join(packageRoot(), 'dist', 'src', 'io', 'hdf5-worker.js');
    if (!existsSync(file)) throw new SimdnetError(`the HDF5 reader ${file} is missing; run "npm run build"`);
    const w = new Worker(file);
    w.on('message', (r: H5Response) => {
      const p = this.waiting.get(r.id);
      if (!p) return;
      this.waiting.delete(r.id);
      clearTimeout(p.timer);
      if (this.waiting.size === 0) w.unref();
      p.resolve(r);
    });
    const fail = (err: Error) => {
      for (const p of this.waiting.values()) { clearTimeout(p.timer); p.reject(err); }
      this.waiting.clear();
      if (this.worker === w) this.worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', () => fail(new SimdnetError('the HDF5 reader stopped')));
    w.unref();
    this.worker = w;
    return w;
  }

  request(r: H5RequestBody, deadlineMs: number, late: () => Error): Promise<H5Response> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The worker is stuck inside HDF5: stop it; the next read starts another.
        this.waiting.delete(id);
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
        reject(late());
      }, deadlineMs);
      this.waiting.set(id, { resolve, reject, timer });
      w.ref();
      w.postMessage({ ...r, id });
    });
  }
}

const reader = new ReaderThread();

// An HDF5 file open for reading: its whole structure (groups, datasets, shapes, attributes) read
// once; dataset values read on demand.
export class Hdf5File {
  private constructor(readonly path: string, private readonly handle: number, private readonly entries: Record<string, H5Entry>,
    private readonly Kind: FileErrorKind) {}

  static async open(path: string, Kind: FileErrorKind = FileError): Promise<Hdf5File> {
    if (!existsSync(path)) throw new Kind(`simdnet: ${path}: no such file`);
    if (!statSync(path).isFile()) throw new Kind(`simdnet: ${path}: not a file`);
    const r = await reader.request({ op: 'open', path }, OPEN_DEADLINE_MS,
      () => new Kind(`simdnet: ${path}: reading its structure took longer than ${OPEN_DEADLINE_MS / 1000} s; the file is corrupt`));
    if (r.error || r.handle === undefined || !r.entries) throw new Kind(`simdnet: ${path}: ${r.error ?? 'not a readable HDF5 file'}`);
    return new Hdf5File(path, r.handle, r.entries, Kind);
  }

  entry(path: string): H5Entry | undefined {
    return Object.hasOwn(this.entries, path) ? this.entries[path] : undefined;
  }

  // The dataset at `path`, or an error naming the file and what it has instead.
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

  // The values of a dataset: a typed array (BigInt64Array for int64), or a scalar.
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
