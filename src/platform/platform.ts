// What differs between Node (and Bun and Deno, which run Node's build) and a web page, behind
// one interface. The rest of src/ imports `platform` from '#platform', which package.json's
// "imports" maps to platform/node.ts or, under the "browser" condition that bundlers set,
// platform/browser.ts; nothing else touches node:*, piscina or h5wasm/node.

import type { File as H5File } from 'h5wasm';
import type { FileError } from '../errors.js';

/**
 * A pool of worker threads that each run one task at a time (piscina in Node, module Web
 * Workers in a page), running `runTask` of engine/worker.ts or decode of data/decode-worker.ts.
 */
export interface WorkerPool<Task, Reply> {
  run(task: Task): Promise<Reply>;
  destroy(): Promise<void>;
  /** The threads, for the tests that kill one mid-step. */
  readonly threads: ReadonlyArray<{ terminate(): unknown }>;
}

/** A worker thread that speaks messages (the HDF5 reader). */
export interface MessageWorker<In, Out> {
  post(message: In, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: Out) => void): void;
  /** An uncaught error in the worker, or its exit: the worker is gone. */
  onFailure(handler: (err: Error) => void): void;
  terminate(): void;
  /** Node: whether the worker keeps the process alive (it should only while a request waits). */
  hold(keepAlive: boolean): void;
}

export type FileErrorKind = new (message: string) => FileError;

/** An HDF5 module (h5wasm) ready for writing, with its error handler throwing. */
export interface Hdf5Writer {
  /**
   * Calls `write` on a new HDF5 file and then either renames it into place at `path` (Node) or,
   * with no path, returns its bytes.
   */
  write(path: string | undefined, write: (file: H5File) => void): Promise<Uint8Array | undefined>;
}

/**
 * Files by path: Node only. In a page every method throws a FileError that says to pass bytes,
 * a File or a Blob instead.
 */
export interface PathFiles {
  /** The whole of a regular file of at most maxBytes, or a `Kind` error naming why not. */
  readInputFile(path: string, maxBytes: number, what: string, Kind: FileErrorKind): Uint8Array;
  checkInputFile(path: string, maxBytes: number, what: string, Kind: FileErrorKind): void;
  /** Size of a regular file, in bytes. */
  size(path: string): number;
  /** Writes through a temporary file in the same folder, renamed into place once complete. */
  writeAtomically(path: string, write: (tmp: string) => Promise<void> | void): Promise<void>;
  writeFile(path: string, bytes: Uint8Array): void;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  isFile(path: string): boolean;
  /** The names in a folder (unsorted), or a `Kind` error naming the folder. */
  list(dir: string, Kind: FileErrorKind): string[];
  /** The real path (links resolved), or undefined if there is none. */
  realpath(path: string): string | undefined;
  /**
   * Every file under root with one of the extensions, sorted; links followed once per real path,
   * never outside root unless followLinksOutside; bounded in files and depth (node-files.ts).
   */
  walk(root: string, options: { extensions: string[]; followLinksOutside?: boolean; maxFiles?: number; maxDepth?: number; what: string; Kind: FileErrorKind }): Promise<string[]>;
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
  extension(name: string): string;
  /**
   * The folders to look in for data that ships beside the package (../shared/data/...), from
   * the working directory and from the package.
   */
  searchRoots(): string[];
}

export interface Platform {
  /** 'node' for Node, Bun and Deno; 'browser' for a page or a Web Worker. */
  readonly name: 'node' | 'browser';
  /** The JavaScript runtime and its version, e.g. "node 20.20.2", "bun 1.4.5", "Chrome 147". */
  readonly runtime: string;
  /** The CPU's model where the runtime tells it, else "unknown cpu". */
  cpuModel(): string;
  /** Threads to use by default: the available cores (Node) or navigator.hardwareConcurrency. */
  cores(): number;
  /**
   * Whether a WebAssembly.Memory can be shared with worker threads: always in Node; in a page
   * only when it is cross-origin isolated (served with COOP same-origin and COEP require-corp).
   */
  canShareMemory(): boolean;
  /** A setting by name (SIMDNET_THREADS, ...): the environment in Node, setSettings in a page. */
  setting(name: string): string | undefined;
  /** The bytes of one of the kernel module's builds (build/<file>). */
  kernelModuleBytes(file: string): Uint8Array<ArrayBuffer>;
  /** Sets a V8 flag where the runtime lets a program do so (Node); a no-op in a page. */
  engineFlag(flag: string): void;
  /** Where measured kernel choices persist between runs: a file, localStorage, or nowhere. */
  tuningStore(): { read(): string | undefined; write(text: string): void } | undefined;
  /** The engine's worker pool: threads that run engine/worker.ts's runTask. */
  enginePool<Task, Reply>(threads: number): WorkerPool<Task, Reply>;
  /** Image decoding threads (data/decode-worker.ts), or undefined to decode on the calling thread. */
  decodePool<Task, Reply>(threads: number): WorkerPool<Task, Reply> | undefined;
  /** The HDF5 reader thread (io/hdf5-reader.ts behind a message loop). */
  hdf5Reader<In, Out>(): MessageWorker<In, Out>;
  hdf5Writer(): Promise<Hdf5Writer>;
  /** Files by path (Node); a page's methods throw. */
  readonly files: PathFiles;
  /** A PNG's RGBA pixels (pngjs in Node; the browser's decoder, without colour conversion, in a page). */
  decodePng(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } | Promise<{ width: number; height: number; data: Uint8Array }>;
  /** CRC-32 (IEEE) natively where the runtime has it, else undefined. */
  nativeCrc32: ((bytes: Uint8Array) => number) | undefined;
  /**
   * Context that follows one async call chain (AsyncLocalStorage), where the runtime has it;
   * undefined in a page.
   */
  asyncContext<T>(): { run<R>(store: T, fn: () => R): R; getStore(): T | undefined } | undefined;
  /** Resolves once pending events (timers, signals, a page's clicks) have had a turn. */
  yieldToEventLoop(): Promise<void>;
  /** Progress lines for fit's verbose output: stdout in Node, the console in a page. */
  readonly console: { write(text: string): void; readonly isTTY: boolean };
  /** Tests only: the fault to inject in a worker thread (SIMDNET_TEST_FAULT), and how to die. */
  workerFault(): string | undefined;
  killWorkerThread(): never;
}
