// The platform in a web page (and in its Web Workers): the kernel module from bytes bundled with
// the code, module Web Workers for threads, h5wasm's browser build on an in-memory file system,
// the browser's own PNG decoder, localStorage for measured kernel choices. There are no file
// paths here: files come in as bytes, Blobs or Files, and go out as bytes.

import type h5wasmModule from 'h5wasm';
import { FileError, SimdnetError } from '../errors.js';
import { kernelModules } from './browser-kernels.js';
import type { Hdf5Writer, MessageWorker, PathFiles, Platform, WorkerPool } from './platform.js';

const settings = new Map<string, string>();

/**
 * Settings that Node takes from the environment (SIMDNET_CONV_ALGORITHM, SIMDNET_GEMM_BLOCKING,
 * SIMDNET_KERNELS, SIMDNET_THREADS, SIMDNET_BARRIER_TIMEOUT_MS), for a page. `undefined` removes one.
 *
 * @example
 * setSettings({ SIMDNET_CONV_ALGORITHM: 'gemm', SIMDNET_GEMM_BLOCKING: '120,1024,256' });
 */
export function setSettings(values: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) settings.delete(k);
    else settings.set(k, String(v));
  }
}

const noPaths = (what: string) => (): never => {
  throw new FileError(`simdnet: ${what}: file paths are not available in a web page; pass the file's bytes (ArrayBuffer or Uint8Array), a Blob or a File instead`);
};

const files: PathFiles = {
  readInputFile: (path) => noPaths(path)(),
  checkInputFile: (path) => noPaths(path)(),
  size: (path) => noPaths(path)(),
  writeAtomically: async (path) => noPaths(path)(),
  writeFile: (path) => noPaths(path)(),
  exists: (path) => noPaths(path)(),
  isDirectory: (path) => noPaths(path)(),
  isFile: (path) => noPaths(path)(),
  list: (dir) => noPaths(dir)(),
  realpath: (path) => noPaths(path)(),
  walk: async (root) => noPaths(root)(),
  join: (...parts) => parts.join('/'),
  resolve: (...parts) => parts.join('/'),
  extension: (name) => { const dot = name.lastIndexOf('.'); return dot > 0 ? name.slice(dot) : ''; },
  searchRoots: () => [],
};

// "Chrome 147", "Firefox 140", "Safari 18.4": enough to key measured kernel choices.
function runtimeName(): string {
  const ua = globalThis.navigator?.userAgent ?? '';
  const m = /(Chrome|Firefox|Edg)\/(\d+)/.exec(ua) ?? /Version\/([\d.]+).*(Safari)/.exec(ua)?.slice(0).reverse();
  return m ? `${m[1]} ${m[2]}` : ua || 'unknown browser';
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// Written as bundlers look for them (Vite, webpack, Parcel: new Worker(new URL(literal,
// import.meta.url), literal options)), so that an app's bundler finds and bundles the workers;
// simdnet's own bundle (web/build-browser.mjs) keeps these names beside simdnet.js.
const startEngineWorker = () => new Worker(new URL('./browser-engine-worker.js', import.meta.url), { type: 'module' });
const startHdf5Worker = () => new Worker(new URL('./browser-hdf5-worker.js', import.meta.url), { type: 'module' });

interface Job<Task, Reply> { task: Task; resolve: (r: Reply) => void; reject: (e: Error) => void }
type WorkerReply<Reply> = { id: number; reply?: Reply; error?: string };

// A pool of module Web Workers, each running one task at a time (the engine's threads meet at
// barriers, so each of a step's tasks must get a worker of its own: tasks never exceed threads).
class WebWorkerPool<Task, Reply> implements WorkerPool<Task, Reply> {
  readonly threads: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job<Task, Reply>[] = [];
  private readonly running = new Map<Worker, { id: number; job: Job<Task, Reply> }>();
  private nextId = 1;
  private destroyed = false;

  constructor(start: () => Worker, threads: number) {
    for (let t = 0; t < threads; t++) {
      const w = start();
      w.onmessage = (e: MessageEvent<WorkerReply<Reply>>) => this.settle(w, e.data.error === undefined ? undefined : new SimdnetError(e.data.error), e.data.reply);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.settle(w, new SimdnetError(`a worker thread failed: ${e.message || 'its script could not run'}`));
      };
      this.idle.push(w);
      this.threads.push(w);
    }
  }

  private settle(w: Worker, error?: Error, reply?: Reply): void {
    const r = this.running.get(w);
    if (!r) return;
    this.running.delete(w);
    if (error) r.job.reject(error);
    else r.job.resolve(reply as Reply);
    this.idle.push(w);
    this.pump();
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!, job = this.queue.shift()!, id = this.nextId++;
      this.running.set(w, { id, job });
      w.postMessage({ id, task: job.task });
    }
  }

  run(task: Task): Promise<Reply> {
    if (this.destroyed) return Promise.reject(new SimdnetError('the worker pool was shut down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    const gone = new SimdnetError('the worker pool was shut down');
    for (const { job } of this.running.values()) job.reject(gone);
    for (const job of this.queue.splice(0)) job.reject(gone);
    for (const w of [...this.idle, ...this.running.keys()]) w.terminate();
    this.running.clear();
    this.idle.length = 0;
  }
}

// Loaded on first use: 4 MB that a page which never writes a model file need not load, and that
// the engine's workers never do.
let h5Ready: Promise<typeof h5wasmModule> | undefined;
const h5 = () => (h5Ready ??= import('h5wasm').then(async ({ default: h5wasm }) => {
  (await h5wasm.ready).activate_throwing_error_handler();
  return h5wasm;
}));
let written = 0;

export const platform: Platform = {
  name: 'browser',
  runtime: runtimeName(),
  cpuModel: () => 'unknown cpu',
  cores: () => Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1),
  canShareMemory: () => globalThis.crossOriginIsolated === true,
  setting: (name) => settings.get(name),
  kernelModuleBytes(file) {
    const text = kernelModules[file];
    if (!text) throw new SimdnetError(`the kernel module ${file} is not part of the browser build`);
    return decodeBase64(text);
  },
  engineFlag: () => undefined,

  tuningStore() {
    let store: Storage | undefined;
    try {
      store = globalThis.localStorage;
    } catch {
      // Storage denied (an opaque origin): choices stay in memory.
    }
    if (!store) return undefined;
    const key = 'simdnet-tuning';
    return {
      read: () => store!.getItem(key) ?? undefined,
      write: (text) => {
        try { store!.setItem(key, text); } catch { /* full or denied: measured again next time */ }
      },
    };
  },

  enginePool: <Task, Reply>(threads: number) => new WebWorkerPool<Task, Reply>(startEngineWorker, threads),
  decodePool: () => undefined,

  hdf5Reader<In, Out>(): MessageWorker<In, Out> {
    const w = startHdf5Worker();
    return {
      post: (m, transfer = []) => w.postMessage(m, transfer),
      onMessage: (handler) => { w.onmessage = (e: MessageEvent<Out>) => handler(e.data); },
      onFailure: (handler) => {
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          handler(new SimdnetError(`the HDF5 reader failed: ${e.message || 'its script could not run'}`));
        };
      },
      terminate: () => w.terminate(),
      hold: () => undefined,
    };
  },

  async hdf5Writer(): Promise<Hdf5Writer> {
    const h = await h5();
    const fs = (await h.ready).FS;
    return {
      async write(path, write) {
        if (path !== undefined) noPaths(path)();
        // On h5wasm's in-memory file system, then out as bytes.
        const name = `/simdnet-write-${written++}.h5`;
        try {
          const f = new h.File(name, 'w');
          try {
            write(f);
          } finally {
            f.close();
          }
          return fs.readFile(name) as Uint8Array;
        } finally {
          try { fs.unlink(name); } catch { /* never created */ }
        }
      },
    };
  },

  files,

  // The browser's decoder, lossless, with no colour-space conversion or premultiplied alpha, so an
  // opaque PNG gives the same pixels as pngjs in Node.
  async decodePng(bytes) {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    try {
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = canvas.getContext('2d')!;
      g.drawImage(bitmap, 0, 0);
      const img = g.getImageData(0, 0, bitmap.width, bitmap.height);
      return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer) };
    } finally {
      bitmap.close();
    }
  },

  nativeCrc32: undefined,
  asyncContext: () => undefined,

  // A message to itself: queued behind the events already waiting, without setTimeout's 4 ms
  // clamp for nested timers.
  yieldToEventLoop: () => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  }),

  // Whole lines to the console: a page has no terminal to redraw a line in.
  console: (() => {
    let line = '';
    return {
      write(s: string) {
        line += s;
        const parts = line.split('\n');
        line = parts.pop()!;
        for (const p of parts) {
          const text = p.replace(/.*\r/, '');
          if (text) console.log(text);
        }
      },
      isTTY: false,
    };
  })(),

  workerFault: () => undefined,
  killWorkerThread: () => {
    throw new SimdnetError('killWorkerThread is for Node tests only');
  },
};
