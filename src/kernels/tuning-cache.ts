// The file that keeps kernel choices measured on this machine, so that the next process does not
// measure again: per machine (CPU model, Node version, kernel build), per section (conv, gemm),
// per key. The first measurement of a key wins: a process re-reads the file before writing and
// keeps what another process wrote meanwhile, so processes that start together agree from then on.
//
// Where it lives is the platform's: in Node SIMDNET_TUNING_CACHE names the file (default
// ~/.cache/simdnet/tuning.json, or under XDG_CACHE_HOME; "off" keeps choices in memory only), in
// a page localStorage.

import { platform } from '#platform';
import { kernelBuildId, type KernelVariant } from './wasm.js';

// Version 3: sections per machine (version 2 held conv entries only, timed over three passes).
interface CacheFile { version: 3; machines: Record<string, Record<string, Record<string, unknown>>> }

/**
 * Timings from one CPU model, runtime and kernel build (the module's hash: a new release or a
 * rebuilt kernel measures again) do not carry to another.
 */
export const machineKey = (variant: KernelVariant) =>
  `${platform.cpuModel()} | ${platform.runtime} | ${variant} ${kernelBuildId(variant)}`;

function read(): CacheFile {
  const text = platform.tuningStore()?.read();
  if (text !== undefined) {
    try {
      const got = JSON.parse(text) as CacheFile;
      if (got && got.version === 3 && typeof got.machines === 'object' && got.machines !== null) return got;
    } catch {
      // Unreadable: measure again and write a fresh one.
    }
  }
  return { version: 3, machines: {} };
}

let memory: CacheFile | undefined;
// What this process has used: never changed afterwards, whatever other processes write, so that
// every step of a run (and every thread) runs the same kernels.
const decided = new Map<string, unknown>();
const id = (machine: string, section: string, key: string) => `${machine}\n${section}\n${key}`;

export function cached<T>(machine: string, section: string, key: string): T | undefined {
  const mine = decided.get(id(machine, section, key));
  if (mine !== undefined) return mine as T;
  memory ??= read();
  const found = memory.machines[machine]?.[section]?.[key];
  if (found !== undefined) decided.set(id(machine, section, key), found);
  return found as T | undefined;
}

/**
 * Keeps `value` unless the file already has the key (then returns the file's), writes the file,
 * and holds the returned value for the rest of the process.
 */
export function remember<T>(machine: string, section: string, key: string, value: T): T {
  const store = platform.tuningStore();
  const now = store ? read() : (memory ??= read());
  const entries = ((now.machines[machine] ??= {})[section] ??= {});
  if (!(key in entries)) entries[key] = value;
  memory = now;
  decided.set(id(machine, section, key), entries[key]);
  store?.write(JSON.stringify(now, null, 1) + '\n');
  return entries[key] as T;
}
