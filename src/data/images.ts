// Image files for prediction and image-folder datasets: JPEG (jpeg-js) and PNG (pngjs), both pure
// JavaScript, decoded to RGB and resized (bilinear) to the model's input.

import { DataFileError } from '../errors.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { readInputFile } from '../io/files.js';
import { unitFloatsFromBytes } from '../kernels/unit-floats.js';
import { Tensor } from '../tensor.js';

export interface RgbImage { width: number; height: number; data: Uint8Array } // RGB, row-major

// Decoding limits: a 64x64 model needs nothing near these; they refuse absurd files before any
// work (a 69-byte PNG can claim 30000x30000 pixels).
export const MAX_IMAGE_PIXELS = 50_000_000;
export const MAX_IMAGE_BYTES = 64 * 2 ** 20;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodeImage(path: string): RgbImage {
  const bytes = readInputFile(path, MAX_IMAGE_BYTES, 'image', DataFileError);
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const isPng = bytes.length > 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE);
  if (isPng) {
    // The IHDR chunk comes first: width and height, big-endian, at bytes 16 and 20.
    if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new DataFileError(`simdnet: cannot decode image ${path}: no PNG header`);
    const width = bytes.readUInt32BE(16), height = bytes.readUInt32BE(20);
    if (width * height > MAX_IMAGE_PIXELS) {
      throw new DataFileError(`simdnet: image ${path} is too large (${width}x${height} pixels; the limit is ${MAX_IMAGE_PIXELS / 1e6} million)`);
    }
  }
  try {
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: rgbaToRgb(img.data, img.width * img.height) };
    }
    if (isPng) {
      const img = PNG.sync.read(bytes);
      return { width: img.width, height: img.height, data: rgbaToRgb(img.data, img.width * img.height) };
    }
  } catch (err) {
    throw new DataFileError(`simdnet: cannot decode image ${path}: ${(err as Error).message}`);
  }
  throw new DataFileError(`simdnet: ${path} is not a JPEG or PNG image`);
}

function rgbaToRgb(rgba: Uint8Array | Buffer, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = rgba[4 * i]; out[3 * i + 1] = rgba[4 * i + 1]; out[3 * i + 2] = rgba[4 * i + 2];
  }
  return out;
}

// Bilinear resize to height x width, pixel centres aligned (as TensorFlow's half_pixel_centers),
// rounded to uint8. The same size is a copy. Training sets and predicted images go through this
// one path, so a photo predicted on is the input a model trained on it saw.
export function resizeRgb(img: RgbImage, height: number, width: number): Uint8Array {
  if (img.height === height && img.width === width) return img.data.slice();
  const out = new Uint8Array(height * width * 3);
  const sy = img.height / height, sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, img.height - 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, img.width - 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => img.data[(yy * img.width + xx) * 3 + c];
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(y * width + x) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}

// Images as one (N, height, width, 3) tensor in [0, 1].
export function loadImages(paths: string[], height: number, width: number): Tensor {
  const data = new Float32Array(paths.length * height * width * 3);
  for (const [i, p] of paths.entries()) {
    const px = resizeRgb(decodeImage(p), height, width);
    unitFloatsFromBytes(px, data.subarray(i * px.length, (i + 1) * px.length));
  }
  return new Tensor(data, [paths.length, height, width, 3]);
}
