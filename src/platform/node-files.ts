// Files in and out in Node, safely: inputs must be regular files under a size limit (a FIFO
// would block forever, a link to /dev/zero never ends); outputs are written to a temporary name
// and renamed (a reader never sees half a file; a crash leaves only a temporary, which
// removeStaleTemporaries clears), and an output folder is checked before any work is done.
// The library reaches these through platform.files; the CLI, a Node program, imports them.

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, accessSync, constants, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileError, SimdnetError } from '../errors.js';

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

// Throws a FileError (or `Kind`) naming the file when it is not a readable regular file of at most maxBytes.
export function checkInputFile(path: string, maxBytes: number, what = 'file', Kind: new (m: string) => FileError = FileError): void {
  const why = notRegular(path, maxBytes);
  if (why) throw new Kind(`simdnet: ${what} ${path}: ${why}`);
}

// The whole of a regular file of at most maxBytes (checked again on the open file, in case it
// was swapped in between).
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

// Creates `dir` if needed (one level at a time: Node's recursive mkdir can hang on /proc) and
// proves it writable by writing and removing a file, so a run fails before its work, not after.
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

// Removes the temporary files that processes killed while writing into `dir` left behind.
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

// Writes `path` through a temporary file in the same folder, renamed into place once complete;
// removes the temporary on failure and names the file in the error.
export async function writeAtomically(path: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof SimdnetError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileError(`simdnet: cannot write ${path}: ${code === 'ENOSPC' ? 'the disk is full' : code ?? (err as Error).message.split('\n')[0]}`);
  }
}

let root: string | undefined;

// The folder holding simdnet's package.json, whether running from src/ (tests) or dist/src/.
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
