// A piscina worker that decodes image files, resizes them to one size and writes their uint8
// pixels straight into the folder loader's shared pixel buffer (no copy back); it returns which
// files could not be used, and why.

import { decodeImage, resizeRgb } from './images.js';

export interface DecodeTask {
  files: string[];
  first: number;                 // index of files[0] in the whole set
  height: number;
  width: number;
  pixels: SharedArrayBuffer;     // (N, height, width, 3) for the whole set
  maxDecodeBytes?: number;       // what decoding one image may take
}
export interface DecodeReply { failed: { index: number; reason: string }[] }

export default function decode(t: DecodeTask): DecodeReply {
  const size = t.height * t.width * 3;
  const out = new Uint8Array(t.pixels);
  const failed: DecodeReply['failed'] = [];
  for (const [i, f] of t.files.entries()) {
    try {
      out.set(resizeRgb(decodeImage(f, t.maxDecodeBytes), t.height, t.width), (t.first + i) * size);
    } catch (err) {
      failed.push({ index: t.first + i, reason: (err as Error).message.replace(/^simdnet: /, '') });
    }
  }
  return { failed };
}
