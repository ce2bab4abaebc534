// The kernel runtime: one instance of the kernel module over one memory, with an allocator and
// typed views. Views are made on demand because growing a shared memory replaces its buffer.

import { Arena } from './arena.js';
import type { KernelExports } from './exports.js';
import { chooseVariant, compileKernels, createMemory, instantiateKernels, type KernelVariant } from './wasm.js';

export type { KernelExports } from './exports.js';
export type { KernelVariant } from './wasm.js';
export { Arena } from './arena.js';

// 64 KiB: stays in L2 between the copy and the scan.
const CHECK_CHUNK_FLOATS = 16384;

/** The WebAssembly kernels and their memory: one per model by default; models given the same runtime share it. */
export class Runtime {
  readonly k: KernelExports;
  readonly arena: Arena;
  readonly gemmWorkspace: number;
  private checkBuffer = 0;

  constructor(readonly variant: KernelVariant, readonly memory: WebAssembly.Memory, arena?: Arena) {
    this.k = instantiateKernels(compileKernels(variant), memory);
    this.arena = arena ?? new Arena(memory);
    this.gemmWorkspace = this.arena.alloc(this.k.gemm_workspace_bytes());
  }

  /** Instantiates the kernels: the relaxed-SIMD build where the runtime has it, else plain SIMD ('auto', the default). */
  static create(options: { variant?: KernelVariant | 'auto'; memory?: WebAssembly.Memory } = {}): Runtime {
    return new Runtime(chooseVariant(options.variant), options.memory ?? createMemory());
  }

  /** A float32 view of `n` values at byte offset `ptr` of the kernels' memory (valid until the memory grows). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** A float64 view of `n` values at byte offset `ptr` of the kernels' memory (valid until the memory grows). */
  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, n);
  }

  /** Copies `data` into a new block and returns its offset. */
  upload(data: Float32Array): number {
    const ptr = this.arena.allocF32(data.length);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }

  /**
   * The index of the first NaN or infinity in `data`, or -1. Scanned by the kernels, a chunk at
   * a time through a small buffer of the calling thread's own: a JavaScript loop over a batch of
   * 64 images took 0.8 ms, a tenth of the ConvNet's whole training step.
   */
  firstNonFinite(data: Float32Array): number {
    const chunk = CHECK_CHUNK_FLOATS;
    if (this.checkBuffer === 0) this.checkBuffer = this.arena.allocF32(chunk);
    const buffer = this.f32(this.checkBuffer, chunk);
    for (let from = 0; from < data.length; from += chunk) {
      const part = data.subarray(from, from + chunk);
      buffer.set(part);
      const bad = this.k.first_non_finite(this.checkBuffer, part.length);
      if (bad >= 0) return from + bad;
    }
    return -1;
  }

  /** A copy of n floats at ptr, safe to keep after the memory grows or the block is reused. */
  download(ptr: number, n: number): Float32Array {
    return this.f32(ptr, n).slice();
  }
}
