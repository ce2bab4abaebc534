// Image files for prediction and image-folder datasets: JPEG (jpeg-js, pure JavaScript, the same
// pixels everywhere) and PNG (pngjs in Node; the browser's own decoder in a page, lossless, with
// no colour conversion), decoded to RGB and resized (bilinear) to the model's input. A page can
// also hand over what it already has: an ImageData, ImageBitmap, <img> or canvas.

import { platform } from '#platform';
import { ArgumentError, DataFileError, describe } from '../errors.js';
import jpeg from 'jpeg-js';
import { isFileSource, sourceBytes, sourceName, type FileSource } from '../io/file-source.js';
import { unitFloatsFromBytes } from '../kernels/unit-floats.js';
import { Tensor } from '../tensor.js';

/** A decoded image: RGB bytes, row-major. */
export interface RgbImage { width: number; height: number; data: Uint8Array } // RGB, row-major

/**
 * Decoding limits: a 64x64 model needs nothing near these; they refuse absurd files before any
 * work (a 69-byte PNG can claim 30000x30000 pixels).
 */
export const MAX_IMAGE_PIXELS = 50_000_000;
export const MAX_IMAGE_BYTES = 64 * 2 ** 20;
/** What decoding one image may take, by default: 256 MiB (a 1,116-byte JPEG can declare 7000x7000). */
export const DEFAULT_DECODE_BUDGET = 256 * 2 ** 20;
// Bytes a decode takes per pixel, with the RGB copy: the peak RSS growth of decoding a
// 3000x2000 image in Node 20 was 14.9 bytes per pixel for jpeg-js, 13.4 for pngjs (2026-12-06);
// 16 leaves a little room. 256 MiB thus allows about 16 megapixels.
const DECODE_BYTES_PER_PIXEL = 16;

// Width and height from a JPEG's start-of-frame segment, read from its markers without decoding;
// undefined if there is none before the scan.
function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0-SOF15, less DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8] };
    }
    at += 2 + length;
  }
  return undefined;
}

// Refuses an image whose declared size would take more than `budget` bytes to decode.
function checkDecodeCost(width: number, height: number, name: string, budget: number): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new DataFileError(`simdnet: image ${name} is too large (${width}x${height} pixels; the limit is ${MAX_IMAGE_PIXELS / 1e6} million)`);
  }
  const cost = width * height * DECODE_BYTES_PER_PIXEL;
  if (cost > budget) {
    throw new DataFileError(`simdnet: image ${name} declares ${width}x${height} pixels, which would take about ${Math.ceil(cost / 2 ** 20)} MiB to decode, ` +
      `over the ${Math.round(budget / 2 ** 20)} MiB budget (raise it with --max-image-memory MB, or maxDecodeBytes)`);
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** What an image can be given as: a path (Node), file bytes, a Blob or File, or pixels a page has. */
export type ImageSource = FileSource | ImageData | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

type Rgba = { width: number; height: number; data: Uint8Array | Uint8ClampedArray };

// The RGB image in `bytes` (JPEG or PNG, by their signatures); PNG may decode asynchronously (a page).
function decodeBytes(bytes: Uint8Array, name: string, budget = DEFAULT_DECODE_BUDGET): RgbImage | Promise<RgbImage> {
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const isPng = bytes.length > 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
  const fail = (err: unknown) => new DataFileError(`simdnet: cannot decode image ${name}: ${(err as Error).message}`);
  if (isPng) {
    // The IHDR chunk comes first: width and height, big-endian, at bytes 16 and 20.
    const at = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw new DataFileError(`simdnet: cannot decode image ${name}: no PNG header`);
    checkDecodeCost(at.getUint32(16), at.getUint32(20), name, budget);
    let img: Rgba | Promise<Rgba>;
    try {
      img = platform.decodePng(bytes);
    } catch (err) {
      throw fail(err);
    }
    return img instanceof Promise ? img.then(rgbOf, (err) => { throw fail(err); }) : rgbOf(img);
  }
  if (isJpeg) {
    const size = jpegSize(bytes);
    if (!size) throw new DataFileError(`simdnet: cannot decode image ${name}: no JPEG frame header before the image data`);
    checkDecodeCost(size.width, size.height, name, budget);
    try {
      return rgbOf(jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 }));
    } catch (err) {
      throw fail(err);
    }
  }
  throw new DataFileError(`simdnet: ${name} is not a JPEG or PNG image`);
}

const rgbOf = (img: Rgba): RgbImage => ({ width: img.width, height: img.height, data: rgbaToRgb(img.data, img.width * img.height) });

/** Decodes a JPEG or PNG file (Node) to RGB; `maxDecodeBytes` bounds what decoding may take (default 256 MiB). */
export function decodeImage(path: string, maxDecodeBytes = DEFAULT_DECODE_BUDGET): RgbImage {
  const img = decodeBytes(platform.files.readInputFile(path, MAX_IMAGE_BYTES, 'image', DataFileError), path, maxDecodeBytes);
  if (img instanceof Promise) throw new ArgumentError('decodeImage: PNG decoding is asynchronous here; use decodeImageSource');
  return img;
}

/**
 * Decodes an image from anything a page or Node has: a path, JPEG or PNG bytes, a Blob or File,
 * an ImageData, or (in a page) an ImageBitmap, <img> or canvas. `name` is what errors call it.
 */
export async function decodeImageSource(source: ImageSource, name = 'image', maxDecodeBytes = DEFAULT_DECODE_BUDGET): Promise<RgbImage> {
  if (isFileSource(source)) {
    const label = sourceName(source, name);
    return decodeBytes(await sourceBytes(source, MAX_IMAGE_BYTES, 'image', DataFileError, name), label, maxDecodeBytes);
  }
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return rgbOf(source);
  if (typeof OffscreenCanvas === 'undefined') {
    throw new ArgumentError(`${name}: expected a path, JPEG or PNG bytes, a Blob or File, or ImageData; got ${Object.prototype.toString.call(source)}`);
  }
  // A bitmap, <img> or canvas: its pixels through a canvas of its own size.
  const s = source as { width: number; height: number; naturalWidth?: number; naturalHeight?: number };
  const width = s.naturalWidth || s.width, height = s.naturalHeight || s.height;
  if (!(width > 0 && height > 0)) throw new DataFileError(`simdnet: ${name} has no pixels (is the image loaded?)`);
  if (width * height > MAX_IMAGE_PIXELS) throw new DataFileError(`simdnet: image ${name} is too large (${width}x${height} pixels)`);
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  g.drawImage(source as CanvasImageSource, 0, 0);
  return rgbOf(g.getImageData(0, 0, width, height));
}

function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = rgba[4 * i]; out[3 * i + 1] = rgba[4 * i + 1]; out[3 * i + 2] = rgba[4 * i + 2];
  }
  return out;
}

/**
 * Bilinear resize to height x width, pixel centres aligned (as TensorFlow's half_pixel_centers),
 * rounded to uint8. The same size is a copy. Training sets and predicted images go through this
 * one path, so a photo predicted on is the input a model trained on it saw.
 */
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

function checkSize(height: number, width: number, what: string): void {
  if (![height, width].every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
    throw new ArgumentError(`${what}: height and width must be whole numbers from 1 to 4096, got ${describe(height)} and ${describe(width)}`);
  }
}

/** Images as one (N, height, width, 3) tensor in [0, 1]. */
export function loadImages(paths: string[], height: number, width: number, maxDecodeBytes = DEFAULT_DECODE_BUDGET): Tensor {
  checkSize(height, width, 'loadImages');
  const data = new Float32Array(paths.length * height * width * 3);
  for (const [i, p] of paths.entries()) {
    const px = resizeRgb(decodeImage(p, maxDecodeBytes), height, width);
    unitFloatsFromBytes(px, data.subarray(i * px.length, (i + 1) * px.length));
  }
  return new Tensor(data, [paths.length, height, width, 3]);
}

/** Images from any source (see decodeImageSource) as one (N, height, width, 3) tensor in [0, 1]. */
export async function readImages(sources: ImageSource[], height: number, width: number, maxDecodeBytes = DEFAULT_DECODE_BUDGET): Promise<Tensor> {
  checkSize(height, width, 'readImages');
  const data = new Float32Array(sources.length * height * width * 3);
  for (const [i, src] of sources.entries()) {
    const px = resizeRgb(await decodeImageSource(src, `image ${i}`, maxDecodeBytes), height, width);
    unitFloatsFromBytes(px, data.subarray(i * px.length, (i + 1) * px.length));
  }
  return new Tensor(data, [sources.length, height, width, 3]);
}
