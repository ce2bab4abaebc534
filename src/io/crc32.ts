// CRC-32 (IEEE, as zlib and PNG compute it) of a weight's bytes, stored beside it in model files
// so that a flipped byte is caught at load. zlib's native one where Node has it (>= 20.15).

import { platform } from '#platform';

let table: Uint32Array | undefined;

function crc32Js(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = platform.nativeCrc32;

export function crc32(data: ArrayBufferView): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return (native ? native(bytes) : crc32Js(bytes)).toString(16).padStart(8, '0');
}
