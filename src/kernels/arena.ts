// An allocator over the kernels' linear memory. Models plan their buffers once (weights,
// gradients, activations for a batch size) and reuse them every step; what an engine lays out
// for one batch size is freed when it lays out for another or is disposed, and the space is
// reused (first fit, neighbours merged), so a long-running program that changes batch sizes or
// profiles repeatedly stays at its peak. WebAssembly memory never shrinks.

import { ArgumentError, SimdnetError } from '../errors.js';
import { HEAP_BASE, PAGE_BYTES } from './wasm.js';

const ALIGN = 64; // a cache line: keeps v128 loads aligned and rows from sharing lines across threads
const MAX_BYTES = 2 ** 32 - PAGE_BYTES;

const up = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export class Arena {
  private top: number;
  private readonly sizes = new Map<number, number>(); // live blocks: offset -> bytes (aligned)
  private holes: [number, number][] = [];            // free blocks below top: [offset, bytes], by offset

  constructor(readonly memory: WebAssembly.Memory, base = HEAP_BASE) {
    this.top = up(base);
  }

  /** Byte offset of a new block of `bytes` bytes, aligned to 64 bytes, growing memory as needed. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new ArgumentError(`bad allocation size ${bytes}`);
    const size = up(Math.max(bytes, 1));
    for (const [i, [at, n]] of this.holes.entries()) {
      if (n < size) continue;
      if (n === size) this.holes.splice(i, 1);
      else this.holes[i] = [at + size, n - size];
      this.sizes.set(at, size);
      return at;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_BYTES) throw this.outOfMemory(end);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
      } catch {
        throw this.outOfMemory(end);
      }
    }
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

  /** Returns a block to the arena; freeing 0 does nothing. */
  free(ptr: number): void {
    if (ptr === 0) return;
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new SimdnetError(`internal: freeing ${ptr}, which is not an allocated block`);
    this.sizes.delete(ptr);
    let i = this.holes.findIndex(([at]) => at > ptr);
    if (i < 0) i = this.holes.length;
    this.holes.splice(i, 0, [ptr, size]);
    // Merge with the next and the previous free block, then give a free tail back to top.
    if (i + 1 < this.holes.length && ptr + size === this.holes[i + 1][0]) {
      this.holes[i][1] += this.holes[i + 1][1];
      this.holes.splice(i + 1, 1);
    }
    if (i > 0 && this.holes[i - 1][0] + this.holes[i - 1][1] === ptr) {
      this.holes[i - 1][1] += this.holes[i][1];
      this.holes.splice(i, 1);
      i--;
    }
    const last = this.holes[this.holes.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.holes.pop();
    }
  }

  /**
   * A point to free back to: freeSince(mark()) frees every block allocated after it that is
   * still live (scratch buffers of a test or benchmark).
   */
  mark(): number {
    return this.top;
  }

  freeSince(mark: number): void {
    for (const ptr of [...this.sizes.keys()]) if (ptr >= mark) this.free(ptr);
  }

  /** Bytes in live blocks. */
  get liveBytes(): number {
    let s = 0;
    for (const n of this.sizes.values()) s += n;
    return s;
  }

  /** The end of the highest block: the memory the arena needs. */
  get used(): number {
    return this.top;
  }

  private outOfMemory(end: number): SimdnetError {
    return new SimdnetError(`out of WebAssembly memory: ${(end / 2 ** 20).toFixed(0)} MiB needed, the limit is 4096 MiB`);
  }
}
