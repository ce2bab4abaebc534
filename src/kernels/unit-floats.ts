// Pixels to floats in [0, 1] (v / 255) by the kernels, for the data layer: a JavaScript loop over
// a batch of 64 SIGNS images takes about 1 ms, on the thread that also feeds the workers (fit
// reads the next batch while they run this one). On the module's local memory (localKernels),
// a chunk at a time: no runtime needs to be at hand.

import { Arena } from './arena.js';
import { localKernels } from './wasm.js';

// 16 KiB of bytes, 64 KiB of floats: both stay in L2 between the copies and the kernel.
const CHUNK = 16384;

let buffers: { bytes: number; floats: number } | undefined;

/** dst [0, src.length) = src / 255, exactly as `dst[i] = src[i] / 255` in JavaScript. */
export function unitFloatsFromBytes(src: Uint8Array, dst: Float32Array): void {
  if (dst.length < src.length) throw new RangeError(`unitFloatsFromBytes: ${src.length} bytes into ${dst.length} floats`);
  const { k, memory } = localKernels();
  if (!buffers) {
    const arena = new Arena(memory);
    buffers = { bytes: arena.alloc(CHUNK), floats: arena.alloc(4 * CHUNK) };
  }
  const { bytes, floats } = buffers;
  const inBytes = new Uint8Array(memory.buffer, bytes, CHUNK), outFloats = new Float32Array(memory.buffer, floats, CHUNK);
  for (let from = 0; from < src.length; from += CHUNK) {
    const n = Math.min(CHUNK, src.length - from);
    inBytes.set(src.subarray(from, from + n));
    k.bytes_to_unit_floats(bytes, floats, n);
    dst.set(n === CHUNK ? outFloats : outFloats.subarray(0, n), from);
  }
}
