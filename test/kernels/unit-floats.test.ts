// Pixels to [0, 1] by the kernels must give the floats a JavaScript loop gives (v / 255 in
// float64, stored to float32): the data layer's batches, and so every run, depend on it.
import { expect, test } from 'vitest';
import { unitFloatsFromBytes } from '../../src/kernels/unit-floats.js';
import { harness } from '../helpers/harness.js';

const h = harness();
const js = (b: Uint8Array) => Float32Array.from(b, (v) => v / 255);

test('the kernel: every byte value, and lengths that end inside a vector', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const n of [256, 255, 17, 16, 15, 1]) {
    const mark = h.rt.arena.mark();
    const x = h.rt.arena.alloc(n), y = h.alloc(n + 4);
    new Uint8Array(h.rt.memory.buffer, x, n).set(all.subarray(0, n));
    h.rt.f32(y + 4 * n, 4).fill(7); // past the end: untouched
    h.rt.k.bytes_to_unit_floats(x, y, n);
    expect(h.get(y, n)).toEqual(js(all.subarray(0, n)));
    expect(Array.from(h.get(y + 4 * n, 4))).toEqual([7, 7, 7, 7]);
    h.rt.arena.freeSince(mark);
  }
});

test('unitFloatsFromBytes: several chunks and a tail, into a longer array', () => {
  const src = Uint8Array.from({ length: 3 * 16384 + 1234 }, (_, i) => (i * 2654435761) >>> 24);
  const dst = new Float32Array(src.length + 3).fill(-1);
  unitFloatsFromBytes(src, dst);
  expect(dst.subarray(0, src.length)).toEqual(js(src));
  expect(Array.from(dst.subarray(src.length))).toEqual([-1, -1, -1]);
  expect(() => unitFloatsFromBytes(src, new Float32Array(10))).toThrow(RangeError);
});
