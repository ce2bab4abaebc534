// A bump allocator over the kernels' linear memory. Models plan their buffers once (weights,
// gradients, activations for a batch size) and reuse them every step, so nothing is freed one
// by one: a mark/release pair frees everything allocated since the mark.

import { HEAP_BASE, PAGE_BYTES } from './wasm.js';

const ALIGN = 64; // a cache line: keeps v128 loads aligned and rows from sharing lines across threads

export class Arena {
  private top: number;

  constructor(readonly memory: WebAssembly.Memory, base = HEAP_BASE) {
    this.top = base;
  }

  // Byte offset of a new block of `bytes` bytes, aligned to 64 bytes, growing memory as needed.
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`simdnet: bad allocation size ${bytes}`);
    const ptr = Math.ceil(this.top / ALIGN) * ALIGN;
    const end = ptr + Math.max(bytes, ALIGN);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch {
        throw new Error(`simdnet: out of WebAssembly memory: ${(end / 2 ** 20).toFixed(0)} MiB needed ` +
          `(the limit is 4096 MiB); use a smaller batch size or fewer threads`);
      }
    }
    this.top = end;
    return ptr;
  }

  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

  get used(): number {
    return this.top;
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark > this.top) throw new Error('simdnet: arena released past its top');
    this.top = mark;
  }
}
