// Loads the AssemblyScript kernel module and instantiates it over a shared WebAssembly.Memory.
import { createHash } from 'node:crypto';
//
// Three builds exist: `simdnet.wasm` (plain SIMD), `simdnet-relaxed.wasm` (relaxed-SIMD fused
// multiply-add, ~20% faster GEMM) and `simdnet-debug.wasm` (plain SIMD with the kernels'
// assertions compiled in: a failed one traps with "unreachable"; the kernel tests use it). The
// relaxed one is used when the runtime accepts it; Node 20 accepts it only behind a V8 flag,
// which is set here before validating.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { KernelExports } from './exports.js';
import { ArgumentError, SimdnetError } from '../errors.js';
import { packageRoot } from '../package.js';

export type KernelVariant = 'simd' | 'relaxed-simd' | 'debug';

const fileOf: Record<KernelVariant, string> = { 'simd': 'simdnet.wasm', 'relaxed-simd': 'simdnet-relaxed.wasm', 'debug': 'simdnet-debug.wasm' };

// One WebAssembly page is 64 KiB; the module's own constants live below HEAP_BASE.
export const PAGE_BYTES = 65536;
export const HEAP_BASE = PAGE_BYTES;
const MAX_PAGES = 65536;

const compiled = new Map<KernelVariant, WebAssembly.Module>();

// Per variant, a short hash of the module's bytes, taken when it is compiled: measured kernel
// choices are kept per build.
const buildIds = new Map<KernelVariant, string>();

export function kernelBuildId(variant: KernelVariant): string {
  compileKernels(variant);
  return buildIds.get(variant)!;
}

function readModuleBytes(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  const path = join(packageRoot(), 'build', fileOf[variant]);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new SimdnetError(`cannot read the kernel module ${path} (${(err as Error).message}); ` +
      `run "npm run build" (npm ci runs it) to compile assembly/ to WebAssembly`);
  }
}

let relaxedChecked: boolean | undefined;
function relaxedAvailable(): boolean {
  if (relaxedChecked !== undefined) return relaxedChecked;
  const bytes = readModuleBytes('relaxed-simd');
  if (!WebAssembly.validate(bytes)) {
    try { v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch { /* flag unknown: not supported */ }
  }
  relaxedChecked = WebAssembly.validate(bytes);
  return relaxedChecked;
}

// The variant to use: SIMDNET_KERNELS=simd|relaxed-simd|debug forces one, otherwise the fastest that runs.
export function chooseVariant(requested?: KernelVariant | 'auto'): KernelVariant {
  const want = requested && requested !== 'auto' ? requested : (process.env.SIMDNET_KERNELS as KernelVariant | undefined);
  if (want === 'simd' || want === 'debug') return want;
  if (want === 'relaxed-simd') {
    if (!relaxedAvailable()) throw new ArgumentError('SIMDNET_KERNELS=relaxed-simd, but this runtime rejects relaxed SIMD');
    return 'relaxed-simd';
  }
  if (want !== undefined && want !== 'auto' as string) {
    throw new ArgumentError(`unknown kernel variant "${want}" (expected simd, relaxed-simd, debug or auto)`);
  }
  return relaxedAvailable() ? 'relaxed-simd' : 'simd';
}

// V8 first runs WebAssembly through its baseline compiler (Liftoff) and swaps in optimized code
// later, but a kernel already running never switches: a long GEMM would run at a third of its
// speed. Kernels are few and small, so they are compiled optimized up front.
let eagerOptimization = false;
function optimizeEagerly(): void {
  if (eagerOptimization) return;
  try { v8.setFlagsFromString('--no-liftoff'); } catch { /* an engine without the flag tiers up as usual */ }
  eagerOptimization = true;
}

export function compileKernels(variant: KernelVariant): WebAssembly.Module {
  let mod = compiled.get(variant);
  if (!mod) {
    optimizeEagerly();
    if (variant === 'relaxed-simd' && !relaxedAvailable()) throw new SimdnetError('relaxed SIMD is not supported here');
    const bytes = readModuleBytes(variant);
    mod = new WebAssembly.Module(bytes);
    compiled.set(variant, mod);
    buildIds.set(variant, createHash('sha256').update(bytes).digest('hex').slice(0, 12));
  }
  return mod;
}

export function createMemory(initialBytes = 16 * PAGE_BYTES): WebAssembly.Memory {
  const initial = Math.max(2, Math.ceil(initialBytes / PAGE_BYTES));
  return new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
}

export function instantiateKernels(mod: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

// The kernel module on a small memory of its own, for work outside any model's memory: sizing
// buffers (winograd_scratch_bytes, conv2d_direct_scratch_bytes: a layout is written once, in
// assembly/, and the engine's planning, which has no runtime at hand, asks the module for its
// size) and turning pixels into floats for the data layer (unit-floats.ts, the one user of the
// memory beyond the stack). Every variant computes the same results there, so whichever is
// compiled already serves.
let local: { k: KernelExports; memory: WebAssembly.Memory } | undefined;
export function localKernels(): { k: KernelExports; memory: WebAssembly.Memory } {
  if (!local) {
    const variant = compiled.keys().next().value ?? 'simd';
    const memory = createMemory(2 * PAGE_BYTES);
    local = { k: instantiateKernels(compileKernels(variant), memory), memory };
  }
  return local;
}
