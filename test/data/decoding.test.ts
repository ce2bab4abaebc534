// Decoded pixels against values known from outside the decoder: PNG and JPEG fixtures made from a
// formula (test/fixtures/pixels-*.png, quadrants.jpg), the SIGNS pixels against the goldens' input
// (which PyTorch's side read), and the bilinear resize against a float64 reference written here.
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeImage, loadImages, resizeRgb } from '../../src/data/images.js';
import { loadSigns } from '../../src/data/signs.js';
import { golden, signsDir } from '../helpers/goldens.js';
import { randomArray } from '../helpers/assert.js';

const fixture = (name: string) => resolve(import.meta.dirname, '../fixtures', name);
// The formula the PNG fixtures were written from: pixel (x, y) of a 5x3 image.
const px = (x: number, y: number) => [(x * 50 + 3) % 256, (y * 70 + 11) % 256, (x * y * 13 + 29) % 256];

describe('PNG: the stored pixels, in RGB order', () => {
  test('8-bit RGB', () => {
    const img = decodeImage(fixture('pixels-rgb.png'));
    expect([img.width, img.height]).toEqual([5, 3]);
    const want = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) want.push(...px(x, y));
    expect(Array.from(img.data)).toEqual(want);
  });

  test('8-bit RGBA: the alpha channel dropped, the colour channels as stored', () => {
    const want = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) want.push(...px(x, y));
    expect(Array.from(decodeImage(fixture('pixels-rgba.png')).data)).toEqual(want);
  });

  test('8-bit grey: the grey level in all three channels', () => {
    const want = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) { const g = px(x, y)[0]; want.push(g, g, g); }
    expect(Array.from(decodeImage(fixture('pixels-grey.png')).data)).toEqual(want);
  });
});

test('JPEG: four quadrants of red, green, blue and white come back as such (within JPEG\'s rounding)', () => {
  const img = decodeImage(fixture('quadrants.jpg'));
  expect([img.width, img.height]).toEqual([16, 16]);
  const colours = [[240, 16, 16], [16, 240, 16], [16, 16, 240], [240, 240, 240]];
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
    const want = colours[(y >> 3) * 2 + (x >> 3)];
    for (let c = 0; c < 3; c++) expect(Math.abs(img.data[3 * (y * 16 + x) + c] - want[c]), `(${x}, ${y}) channel ${c}`).toBeLessThanOrEqual(4);
  }
});

test('the SIGNS test pixels are the goldens\' input: the first four images / 255, to the bit', async () => {
  const g = (await golden('convnet')).get('x');
  const data = await loadSigns(signsDir);
  expect(g.shape).toEqual([4, 64, 64, 3]);
  expect(Array.from(data.test.x.slice(0, 4).data)).toEqual(Array.from(g.data));
});

// Bilinear with pixel centres aligned (TensorFlow's half_pixel_centers), in float64, rounded.
function bilinear(src: Uint8Array, h: number, w: number, oh: number, ow: number): number[] {
  const out: number[] = [];
  const at = (y: number, x: number, c: number) => src[(y * w + x) * 3 + c];
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) for (let c = 0; c < 3; c++) {
    const fy = Math.min(Math.max((y + 0.5) * (h / oh) - 0.5, 0), h - 1), fx = Math.min(Math.max((x + 0.5) * (w / ow) - 0.5, 0), w - 1);
    const y0 = Math.floor(fy), x0 = Math.floor(fx), y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
    const dy = fy - y0, dx = fx - x0;
    const v = (1 - dy) * ((1 - dx) * at(y0, x0, c) + dx * at(y0, x1, c)) + dy * ((1 - dx) * at(y1, x0, c) + dx * at(y1, x1, c));
    out.push(Math.round(v));
  }
  return out;
}

test('the bilinear resize against a float64 reference: down, up, and to other aspect ratios', () => {
  const src = Uint8Array.from(randomArray(7 * 5 * 3, 4), (v) => Math.floor((v + 1) * 127.9));
  for (const [oh, ow] of [[3, 2], [14, 10], [4, 9], [7, 5], [1, 1], [20, 3]]) {
    expect(Array.from(resizeRgb({ width: 5, height: 7, data: src }, oh, ow)), `${oh}x${ow}`).toEqual(bilinear(src, 7, 5, oh, ow));
  }
});

test('loadImages: decoded, resized and scaled to [0, 1] as v / 255', () => {
  const x = loadImages([fixture('pixels-rgb.png')], 3, 5);
  const want = [];
  for (let y = 0; y < 3; y++) for (let xx = 0; xx < 5; xx++) want.push(...px(xx, y).map((v) => Math.fround(v / 255)));
  expect(Array.from(x.data)).toEqual(want);
});
