// The platform in Node (and in Bun and Deno, which run Node's build unchanged): files by path,
// piscina worker pools, h5wasm's Node build, the environment for settings.

import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, homedir, tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import v8 from 'node:v8';
import { Worker, isMainThread } from 'node:worker_threads';
import zlib from 'node:zlib';
import h5wasm from 'h5wasm/node';
import { Piscina } from 'piscina';
import { PNG } from 'pngjs';
import { SimdnetError } from '../errors.js';
import { checkInputFile, packageRoot, readInputFile, walkFiles, writeAtomically } from './node-files.js';
import type { Hdf5Writer, MessageWorker, PathFiles, Platform, WorkerPool } from './platform.js';

// A worker script of the built package (dist/src/...), named in the error if it is missing.
function script(...parts: string[]): string {
  const file = join(packageRoot(), 'dist', 'src', ...parts);
  if (!existsSync(file)) throw new SimdnetError(`the worker script ${file} is missing; run "npm run build"`);
  return file;
}

const files: PathFiles = {
  readInputFile: (path, maxBytes, what, Kind) => readInputFile(path, maxBytes, what, Kind),
  checkInputFile: (path, maxBytes, what, Kind) => checkInputFile(path, maxBytes, what, Kind),
  size: (path) => statSync(path).size,
  writeAtomically,
  writeFile: (path, bytes) => writeFileSync(path, bytes),
  exists: (path) => existsSync(path),
  isDirectory: (path) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  isFile: (path) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  list: (dir, Kind) => {
    try {
      return readdirSync(dir);
    } catch (err) {
      throw new Kind(`simdnet: cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  },
  realpath: (path) => {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
  walk: walkFiles,
  join: (...parts) => join(...parts),
  resolve: (...parts) => resolve(...parts),
  extension: (name) => extname(name),
  searchRoots: () => [process.cwd(), packageRoot()],
};

let h5Ready: Promise<typeof h5wasm> | undefined;
// h5wasm with HDF5's diagnostic stack turned into exceptions, which callers summarize
// (hdf5Reason) into one line that names the file.
const h5 = () => (h5Ready ??= h5wasm.ready.then((m) => {
  m.activate_throwing_error_handler();
  return h5wasm;
}));

function piscinaPool<Task, Reply>(filename: string, threads: number, options: Partial<ConstructorParameters<typeof Piscina>[0]> = {}): WorkerPool<Task, Reply> {
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, ...options });
  return { run: (task) => pool.run(task) as Promise<Reply>, destroy: () => pool.destroy(), get threads() { return pool.threads; } };
}

// Node's own name, or Bun's and Deno's when they run this build.
function runtimeName(): string {
  const v = process.versions as Record<string, string | undefined>;
  if (v.bun) return `bun ${v.bun}`;
  if (v.deno) return `deno ${v.deno}`;
  return `node ${process.version.replace(/^v/, '')}`;
}

export const platform: Platform = {
  name: 'node',
  runtime: runtimeName(),
  cpuModel: () => cpus()[0]?.model ?? 'unknown cpu',
  cores: () => availableParallelism(),
  canShareMemory: () => true,
  setting: (name) => process.env[name],

  kernelModuleBytes(file) {
    const path = join(packageRoot(), 'build', file);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (err) {
      throw new SimdnetError(`cannot read the kernel module ${path} (${(err as Error).message}); ` +
        'run "npm run build" (npm ci runs it) to compile assembly/ to WebAssembly');
    }
  },

  engineFlag(flag) {
    try { v8.setFlagsFromString(flag); } catch { /* an engine without the flag goes on as it is */ }
  },

  // SIMDNET_TUNING_CACHE names the file (default ~/.cache/simdnet/tuning.json, or under
  // XDG_CACHE_HOME); "off" keeps choices in memory only.
  tuningStore() {
    const env = process.env.SIMDNET_TUNING_CACHE;
    if (env === 'off') return undefined;
    const path = env || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'simdnet', 'tuning.json');
    return {
      read: () => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      },
      write: (text) => {
        try {
          mkdirSync(dirname(path), { recursive: true });
          // A cache that cannot be written costs a measurement next time, nothing else.
          writeAtomically(path, (tmp) => writeFileSync(tmp, text)).catch(() => undefined);
        } catch {
          // As above.
        }
      },
    };
  },

  enginePool: (threads) => piscinaPool(script('engine', 'worker.js'), threads, { idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1 }),

  decodePool(threads) {
    const file = join(packageRoot(), 'dist', 'src', 'data', 'decode-worker.js');
    if (!existsSync(file)) return undefined;
    // Small young generations: decoding makes short-lived garbage, and each worker's heap counts
    // against the 2x-the-pixels budget of a large folder.
    return piscinaPool(file, threads, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  },

  hdf5Reader<In, Out>(): MessageWorker<In, Out> {
    const w = new Worker(script('platform', 'node-hdf5-worker.js'));
    w.unref();
    return {
      post: (m, transfer = []) => w.postMessage(m, transfer),
      onMessage: (handler) => w.on('message', handler),
      onFailure: (handler) => {
        w.on('error', handler);
        w.on('exit', () => handler(new SimdnetError('the HDF5 reader stopped')));
      },
      terminate: () => void w.terminate(),
      hold: (keepAlive) => (keepAlive ? w.ref() : w.unref()),
    };
  },

  async hdf5Writer(): Promise<Hdf5Writer> {
    const h = await h5();
    const fill = (path: string, write: (f: InstanceType<typeof h.File>) => void) => {
      const f = new h.File(path, 'w');
      try {
        write(f);
      } finally {
        f.close();
      }
    };
    return {
      async write(path, write) {
        if (path !== undefined) {
          await writeAtomically(path, (tmp) => fill(tmp, write));
          return undefined;
        }
        // Bytes wanted: h5wasm's Node build writes real files, so through a temporary one.
        const tmp = join(tmpdir(), `simdnet-${process.pid}-${Math.random().toString(36).slice(2)}.h5`);
        try {
          fill(tmp, write);
          return new Uint8Array(readFileSync(tmp));
        } finally {
          rmSync(tmp, { force: true });
        }
      },
    };
  },

  files,

  decodePng(bytes) {
    const img = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: img.width, height: img.height, data: img.data };
  },

  nativeCrc32: (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32,

  asyncContext<T>() {
    return new AsyncLocalStorage<T>();
  },

  yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),

  console: {
    write: (s) => void process.stdout.write(s),
    get isTTY() { return Boolean(process.stdout.isTTY); },
  },

  workerFault: () => (isMainThread ? undefined : process.env.SIMDNET_TEST_FAULT),
  killWorkerThread: () => process.exit(1),
};
