// A piscina worker that decodes image files and resizes them to one size, for the folder loader.
// It returns each image's uint8 pixels, or why the file could not be used.

import { Piscina } from 'piscina';
import { decodeImage, resizeRgb } from './images.js';

export interface DecodeTask { files: string[]; height: number; width: number }
export interface DecodeReply { pixels: Uint8Array; failed: { index: number; reason: string }[] }

export default function decode(t: DecodeTask): DecodeReply {
  const size = t.height * t.width * 3;
  const pixels = new Uint8Array(t.files.length * size);
  const failed: DecodeReply['failed'] = [];
  for (const [i, f] of t.files.entries()) {
    try {
      pixels.set(resizeRgb(decodeImage(f), t.height, t.width), i * size);
    } catch (err) {
      failed.push({ index: i, reason: (err as Error).message.replace(/^simdnet: /, '') });
    }
  }
  // The pixels move to the main thread rather than being copied.
  return Piscina.move({ pixels, failed } as unknown as ArrayBufferView) as unknown as DecodeReply;
}
