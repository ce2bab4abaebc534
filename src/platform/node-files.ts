// Files in and out in Node, safely: inputs must be regular files under a size limit (a FIFO
// would block forever, a link to /dev/zero never ends); outputs are written to a temporary name
// and renamed (a reader never sees half a file; a crash leaves only a temporary, which
// removeStaleTemporaries clears), and an output folder is checked before any work is done.
// The library reaches these through platform.files; the CLI, a Node program, imports them.

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, accessSync, constants, existsSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileError, SimdnetError } from '../errors.js';
import { hdf5Reason } from './hdf5-reason.js';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

// Why `path` cannot be read as an input file, or null if it can. Never opens a non-regular file.
function notRegular(path: string, maxBytes: number): string | null {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  }
  if (st.isDirectory()) return 'a folder, not a file';
  if (st.isFIFO()) return 'a named pipe, not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device, not a regular file';
  if (st.isSocket()) return 'a socket, not a regular file';
  if (!st.isFile()) return 'not a regular file';
  if (st.size > maxBytes) return `${mib(st.size)}, over the ${mib(maxBytes)} limit`;
  return null;
}

/** Throws a FileError (or `Kind`) naming the file when it is not a readable regular file of at most maxBytes. */
export function checkInputFile(path: string, maxBytes: number, what = 'file', Kind: new (m: string) => FileError = FileError): void {
  const why = notRegular(path, maxBytes);
  if (why) throw new Kind(`simdnet: ${what} ${path}: ${why}`);
}

/**
 * The whole of a regular file of at most maxBytes (checked again on the open file, in case it
 * was swapped in between).
 */
export function readInputFile(path: string, maxBytes: number, what = 'file', Kind: new (m: string) => FileError = FileError): Buffer {
  checkInputFile(path, maxBytes, what, Kind);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new Kind(`simdnet: cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) throw new Kind(`simdnet: ${what} ${path}: changed while being read`);
    const out = Buffer.alloc(st.size);
    let at = 0;
    while (at < out.length) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return out.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` if needed (one level at a time: Node's recursive mkdir can hang on /proc) and
 * proves it writable by writing and removing a file, so a run fails before its work, not after.
 */
export function prepareOutputDir(dir: string): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: some ancestor is a file; the walk up finds it and says so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new FileError(`simdnet: output folder ${abs}: ${(err as Error).message}`);
      missing.unshift(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (!st.isDirectory()) throw new FileError(`simdnet: output folder ${abs}: ${at} is not a folder`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      throw new FileError(`simdnet: cannot create the output folder ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const probe = join(abs, `.simdnet-write-test.${process.pid}.tmp`);
  try {
    accessSync(abs, constants.W_OK);
    writeFileSync(probe, 'simdnet');
    rmSync(probe, { force: true });
  } catch (err) {
    rmSync(probe, { force: true });
    throw new FileError(`simdnet: the output folder ${abs} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return abs;
}

const TEMPORARY = /^\..+\.(\d+)\.tmp$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary files that processes killed while writing into `dir` left behind. */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes `path` through a temporary file in the same folder, renamed into place once complete;
 * removes the temporary on failure and names the file in the error.
 * The path must be a new name or a regular file (a rename would replace a FIFO or a device,
 * /dev/full say, with a file), in an existing folder.
 */
export async function writeAtomically(path: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const why = unwritableOutput(path, []);
  if (why) throw new FileError(`simdnet: cannot write ${path}: ${why}`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof SimdnetError) throw err;
    throw new FileError(`simdnet: cannot write ${path}: ${writeFailure(err)}`);
  }
}

/** Why a write failed, in a few words: Node's error code, or what HDF5's diagnostic stack says. */
export function writeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full';
  return code ?? hdf5Reason(err);
}

let root: string | undefined;

/** The folder holding simdnet's package.json, whether running from src/ (tests) or dist/src/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'simdnet') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new SimdnetError('simdnet: cannot find the package root (package.json named "simdnet")');
    dir = up;
  }
}

export interface WalkOptions {
  /** File name endings to keep, lower case with the dot ('.jpg'). */
  extensions: string[];
  /** Follow symbolic links that lead outside `root` too. Default false: such a link is refused. */
  followLinksOutside?: boolean;
  /** Files at most. Default 1,000,000. */
  maxFiles?: number;
  /** Folder depth at most. Default 64. */
  maxDepth?: number;
  /** What messages call the root ("class folder"). */
  what: string;
  Kind: new (message: string) => FileError;
}

/**
 * Every file under `root` with one of the extensions, sorted by path, walking subfolders
 * asynchronously (so that Ctrl-C and SIGTERM are handled during a long walk). Symbolic links are
 * followed at most once per real path: a link to a folder already walked (itself, an ancestor)
 * adds nothing, and a file reached twice counts once. A link that leads outside `root` is refused,
 * naming it, unless followLinksOutside; too many files or folders too deep are refused too.
 */
export async function walkFiles(root: string, o: WalkOptions): Promise<string[]> {
  const { readdir, realpath, stat } = await import('node:fs/promises');
  const maxFiles = o.maxFiles ?? 1_000_000, maxDepth = o.maxDepth ?? 64;
  const fail = (why: string) => new o.Kind(`simdnet: ${o.what} ${root}: ${why}`);
  let top: string;
  try {
    top = await realpath(root);
  } catch (err) {
    throw fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message);
  }
  const inside = (real: string) => real === top || real.startsWith(top.endsWith(sep) ? top : top + sep);
  const seen = new Set<string>([top]);
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth) throw fail(`folders nest deeper than ${maxDepth} levels (at ${dir})`);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new o.Kind(`simdnet: cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      let isDir = e.isDirectory(), isFile = e.isFile();
      const wanted = (name: string) => { const dot = name.lastIndexOf('.'); return dot > 0 && o.extensions.includes(name.slice(dot).toLowerCase()); };
      if (isFile && !wanted(e.name)) continue;
      let real: string;
      try {
        real = await realpath(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new o.Kind(`simdnet: ${path}: a symbolic link that ${code === 'ELOOP' ? 'loops' : code === 'ENOENT' ? 'leads nowhere' : `cannot be followed (${code})`}`);
      }
      if (e.isSymbolicLink()) {
        if (!inside(real) && !o.followLinksOutside) {
          throw new o.Kind(`simdnet: ${path}: a symbolic link that leads outside the ${o.what} ${root} (to ${real}); remove it, or allow links outside (--follow-links)`);
        }
        const st = await stat(real);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      // Each real folder and file once, however many links lead to it.
      if (!isDir && !isFile) continue;
      if (seen.has(real)) continue;
      seen.add(real);
      if (isDir) {
        await walk(path, depth + 1);
        continue;
      }
      if (!wanted(e.name)) continue;
      if (out.length >= maxFiles) throw fail(`holds more than ${maxFiles.toLocaleString('en-US')} image files`);
      out.push(path);
    }
  };
  await walk(root, 0);
  return out;
}

const LOCK = '.simdnet.lock';

/**
 * Locks a run folder for this process: an exclusively created lock file holding the process id.
 * A second run is refused at once, naming the process; the lock of a process that is gone is
 * taken over (`note` says so). Returns the release, which also runs if the process exits.
 */
export function lockRunFolder(dir: string, note: (s: string) => void): () => void {
  const path = join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new FileError(`simdnet: cannot lock the output folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch { /* removed meanwhile: try again */ }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new FileError(`simdnet: the output folder ${dir} is in use by another simdnet run (process ${owner}); wait for it, or choose another --out`);
      }
      note(`Taking over the lock of ${dir} from process ${Number.isInteger(owner) ? owner : '?'}, which is no longer running`);
      rmSync(path, { force: true });
    }
  }
  const release = () => {
    try {
      if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path, { force: true });
    } catch { /* gone already */ }
    process.off('exit', release);
  };
  process.on('exit', release);
  return release;
}

/**
 * Why `out` cannot be written as an output of a command that reads `inputs`, or null if it can:
 * an output must be a new name or a regular file (not a folder, FIFO or device, which a rename
 * would replace), in an existing folder, and never one of the inputs (through links too).
 */
export function unwritableOutput(out: string, inputs: string[]): string | null {
  const abs = resolve(out);
  const parent = dirname(abs);
  let st;
  try {
    st = statSync(parent);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `its folder ${parent} does not exist` : code === 'ENOTDIR' ? `${parent} is not a folder` : `its folder: ${code}`;
  }
  if (!st.isDirectory()) return `${parent} is not a folder`;
  let real: string | undefined;
  try {
    const target = statSync(abs);
    if (target.isDirectory()) return 'a folder, not a file';
    if (target.isFIFO()) return 'a named pipe; simdnet writes regular files only';
    if (target.isCharacterDevice() || target.isBlockDevice()) return 'a device; simdnet writes regular files only';
    if (!target.isFile()) return 'not a regular file';
    real = realpathSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  if (real !== undefined) {
    for (const i of inputs) {
      let inReal: string | undefined;
      try { inReal = realpathSync(i); } catch { /* not there: cannot be clobbered */ }
      if (inReal === real) return `the same file as the input ${i}; writing it would destroy the input`;
    }
  }
  return null;
}
