// Small crafted files for the reliability tests, made by the tests themselves.
import { deflateSync } from 'node:zlib';
import h5wasm from 'h5wasm/node';
import { crc32 } from '../../src/io/crc32.js';

// A PNG whose header claims width x height, with one tiny (wrong) data chunk.
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(parseInt(crc32(body), 16));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1))), chunk('IEND', Buffer.alloc(0))]);
}

// A SIGNS-layout file: `n` images of h x w (pixels from a counter) and their labels.
export async function signsFile(path: string, prefix: string, n: number, labels: BigInt64Array | BigUint64Array | Int32Array | Uint8Array, h = 64, w = 64): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  f.create_dataset({ name: `${prefix}_x`, data: Uint8Array.from({ length: n * h * w * 3 }, (_, i) => (i * 7) % 256), shape: [n, h, w, 3], dtype: '<B' });
  const dtype = labels instanceof BigInt64Array ? '<q' : labels instanceof BigUint64Array ? '<Q' : labels instanceof Int32Array ? '<i' : '<B';
  f.create_dataset({ name: `${prefix}_y`, data: labels, shape: [labels.length], dtype });
  f.close();
}

// A SIGNS-layout file whose pixel dataset declares `n` images but stores one chunk: a few KB.
export async function sparseSignsFile(path: string, prefix: string, n: number): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const d = f.create_dataset({ name: `${prefix}_x`, data: new Uint8Array(64 * 64 * 3), shape: [1, 64, 64, 3], dtype: '<B', maxshape: [null, 64, 64, 3], chunks: [1, 64, 64, 3] });
  d.resize([n, 64, 64, 3]);
  f.create_dataset({ name: `${prefix}_y`, data: new Uint8Array(n), shape: [n], dtype: '<B' });
  f.close();
}

// Rewrites a root attribute (JSON) of an HDF5 file in place.
export async function editJsonAttribute(path: string, name: string, edit: (v: any) => any): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'a');
  const v = JSON.parse(String(f.attrs[name].value));
  f.delete_attribute(name);
  f.create_attribute(name, JSON.stringify(edit(v)));
  f.close();
}

// Flips one bit of the stored bytes of `values` (found in the file's raw bytes), as a disk error would.
export function flipBitIn(file: Buffer, values: Float32Array, at = 5): Buffer {
  const needle = Buffer.from(values.buffer, values.byteOffset, Math.min(values.byteLength, 64));
  const where = file.indexOf(needle);
  if (where < 0) throw new Error('the values are not stored contiguously in the file');
  const out = Buffer.from(file);
  out[where + at] ^= 0x10;
  return out;
}

// A real JPEG (64x64) whose frame header is rewritten to claim width x height: a few KB that
// would ask a decoder for width x height pixels.
export function jpegClaiming(from: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(from);
  for (let at = 2; at + 9 < out.length;) {
    const marker = out[at + 1];
    const length = out.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.writeUInt16BE(height, at + 5);
      out.writeUInt16BE(width, at + 7);
      return out;
    }
    at += 2 + length;
  }
  throw new Error('no frame header');
}

// A model file in which the first value of `values` (a weight as saved) is replaced by `value`,
// with the weight's stored checksum rewritten to match, so that only the value is wrong
// (saveModel itself refuses to write a non-finite weight).
export function replaceFirstValue(file: Buffer, values: Float32Array, value: number): Buffer {
  const needle = Buffer.from(values.buffer, values.byteOffset, Math.min(values.byteLength, 64));
  const where = file.indexOf(needle);
  if (where < 0 || file.indexOf(needle, where + 1) >= 0) throw new Error('the values are not stored once, contiguously, in the file');
  const changed = Float32Array.from(values);
  changed[0] = value;
  const out = Buffer.from(file);
  out.writeFloatLE(value, where);
  const before = Buffer.from(crc32(values), 'latin1'), after = Buffer.from(crc32(changed), 'latin1');
  const at = out.indexOf(before);
  if (at < 0 || out.indexOf(before, at + 1) >= 0) throw new Error('the checksum is not stored once in the file');
  after.copy(out, at);
  return out;
}
