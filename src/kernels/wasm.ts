// Loads the AssemblyScript kernel module and instantiates it over a shared WebAssembly.Memory.
//
// Three builds exist: `simdnet.wasm` (plain SIMD), `simdnet-relaxed.wasm` (relaxed-SIMD fused
// multiply-add, ~20% faster GEMM) and `simdnet-debug.wasm` (plain SIMD with the kernels'
// assertions compiled in: a failed one traps with "unreachable"; the kernel tests use it). The
// relaxed one is used when the runtime accepts it; Node 20 accepts it only behind a V8 flag,
// which is set here before validating (a page cannot set flags: Chrome validates it as is).

import { platform } from '#platform';
import type { KernelExports } from './exports.js';
import { ArgumentError, SimdnetError } from '../errors.js';

export type KernelVariant = 'simd' | 'relaxed-simd' | 'debug';

const fileOf: Record<KernelVariant, string> = { 'simd': 'simdnet.wasm', 'relaxed-simd': 'simdnet-relaxed.wasm', 'debug': 'simdnet-debug.wasm' };

/** One WebAssembly page is 64 KiB; the module's own constants live below HEAP_BASE. */
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

const readModuleBytes = (variant: KernelVariant) => platform.kernelModuleBytes(fileOf[variant]);

// A build's identity (not a defence against anyone): its length and FNV-1a (32 bits) of its
// bytes, in hex; synchronous in every runtime, where a page's SHA-256 is not.
function buildHash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `${bytes.length.toString(16)}-${(h >>> 0).toString(16).padStart(8, '0')}`;
}

let relaxedChecked: boolean | undefined;
function relaxedAvailable(): boolean {
  if (relaxedChecked !== undefined) return relaxedChecked;
  const bytes = readModuleBytes('relaxed-simd');
  if (!WebAssembly.validate(bytes)) {
    platform.engineFlag('--experimental-wasm-relaxed-simd');
  }
  relaxedChecked = WebAssembly.validate(bytes);
  return relaxedChecked;
}

/** The variant to use: SIMDNET_KERNELS=simd|relaxed-simd|debug forces one, otherwise the fastest that runs. */
export function chooseVariant(requested?: KernelVariant | 'auto'): KernelVariant {
  const want = requested && requested !== 'auto' ? requested : (platform.setting('SIMDNET_KERNELS') as KernelVariant | undefined);
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
  platform.engineFlag('--no-liftoff');
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
    buildIds.set(variant, buildHash(bytes));
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
