// The robustness suites' shifts do what their names say, on synthetic images where the answer is
// known: a close-up enlarges the centre, a crop that cuts the wrist loses the bottom, warm light
// reddens, a softer sensor smooths edges, rotations move a dot around the centre.
import { describe, expect, test } from 'vitest';
import { CAMERA_SHIFTS, ROBUSTNESS_SHIFTS, shifted } from '../../src/data/robustness.js';
import { ImageSet } from '../../src/data/image-set.js';

const H = 64, W = 64;
const shift = (name: string) => [...CAMERA_SHIFTS, ...ROBUSTNESS_SHIFTS].find((s) => s.name.startsWith(name))!;
const px = (img: Uint8Array, y: number, x: number) => Array.from(img.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));

// A white square of side `side` centred at (cy, cx) on black.
function square(side: number, cy = H / 2, cx = W / 2): Uint8Array {
  const img = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (Math.abs(y + 0.5 - cy) < side / 2 && Math.abs(x + 0.5 - cx) < side / 2) img.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return img;
}
const whiteRows = (img: Uint8Array) => {
  const rows = [];
  for (let y = 0; y < H; y++) if (px(img, y, W / 2)[0] > 127) rows.push(y);
  return rows;
};

describe('other-camera framings', () => {
  test('there are nine, named, all different from the 14', () => {
    expect(CAMERA_SHIFTS).toHaveLength(9);
    expect(ROBUSTNESS_SHIFTS).toHaveLength(14);
    const names = new Set([...CAMERA_SHIFTS, ...ROBUSTNESS_SHIFTS].map((s) => s.name));
    expect(names.size).toBe(23);
  });

  test('close-ups enlarge the central 60% and 45% to the whole frame', () => {
    const src = square(24);
    expect(whiteRows(shift('close-up (central 60%)').apply(src, H, W, 0)).length).toBeGreaterThanOrEqual(39);
    expect(whiteRows(shift('close-up (central 60%)').apply(src, H, W, 0)).length).toBeLessThanOrEqual(41);
    // 24 / 0.45 = 53 rows.
    const rows = whiteRows(shift('close-up (central 45%)').apply(src, H, W, 0)).length;
    expect(rows).toBeGreaterThanOrEqual(52);
    expect(rows).toBeLessThanOrEqual(55);
  });

  test('the wrist crop zooms in and pushes the bottom of the image out of the frame', () => {
    const src = new Uint8Array(H * W * 3);
    src.fill(255, (56 * W) * 3); // the bottom 8 rows: the wrist
    expect(whiteRows(shift('crop cutting the wrist').apply(src, H, W, 0))).toEqual([]);
    const top = square(8, 16, 32);
    const rows = whiteRows(shift('crop cutting the wrist').apply(top, H, W, 0));
    expect(rows.length).toBeGreaterThanOrEqual(10); // enlarged 1.4x
    expect(rows[0]).toBeGreaterThan(12);              // and moved down
  });

  test('rotations of 30 degrees turn a dot about the centre', () => {
    const dot = square(4, 12, 32); // above the centre
    const sideways = (name: string) => {
      const out = shift(name).apply(dot, H, W, 0);
      let sx = 0, n = 0;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (px(out, y, x)[0] > 127) { sx += x; n++; }
      return sx / n - 31.5;
    };
    const a = sideways('rotation +30'), b = sideways('rotation -30');
    // 20 px from the centre turned by 30 degrees: 10 px sideways, one way and then the other.
    expect(Math.abs(Math.abs(a) - 10)).toBeLessThan(2.5);
    expect(Math.abs(Math.abs(b) - 10)).toBeLessThan(2.5);
    expect(Math.sign(a)).toBe(-Math.sign(b));
  });

  test('warm light reddens and cools blue; cool light the other way', () => {
    const grey = new Uint8Array(H * W * 3).fill(128);
    const [wr, , wb] = px(shift('warm light').apply(grey, H, W, 0), 5, 5);
    const [cr, , cb] = px(shift('cool light').apply(grey, H, W, 0), 5, 5);
    expect(wr).toBeGreaterThan(128); expect(wb).toBeLessThan(128);
    expect(cr).toBeLessThan(128); expect(cb).toBeGreaterThan(128);
  });

  test('a softer sensor blurs a sharp edge but keeps flat areas', () => {
    const half = new Uint8Array(H * W * 3);
    for (let y = 0; y < H; y++) half.fill(255, (y * W + 32) * 3, (y * W + 64) * 3);
    const out = shift('softer sensor').apply(half, H, W, 0);
    expect(px(out, 10, 2)[0]).toBe(0);
    expect(px(out, 10, 61)[0]).toBe(255);
    const edge = [29, 30, 31, 32, 33, 34].map((x) => px(out, 10, x)[0]);
    expect(edge.some((v) => v > 10 && v < 245)).toBe(true);
  });

  test('shifted() applies a shift to every image of a set and keeps the labels', () => {
    const pixels = new Uint8Array(2 * H * W * 3);
    pixels.set(square(24), 0); pixels.set(square(10), H * W * 3);
    const set = new ImageSet(pixels, [2, H, W, 3], Int32Array.of(1, 0), ['a', 'b']);
    const out = shifted(set, shift('close-up (central 60%)'));
    expect(Array.from(out.labels)).toEqual([1, 0]);
    expect(whiteRows(out.pixels.subarray(H * W * 3)).length).toBeGreaterThanOrEqual(16);
  });
});
