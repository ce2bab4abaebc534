// A 10-class folder set the project builds itself, to train on as a user trains on their own
// photos (issue 25: "one seed's figures for a 10-class own-data folder set"): the digits 0-9,
// drawn as seven-segment strokes of random thickness, colour, size, slant, rotation and place
// over 64x64 crops of real photos (SIGNS's: its training photos behind the training digits, its
// test photos behind the test digits, so no background is shared), softened by 4x4
// supersampling, with sensor noise. PNG files in DIR/train/<digit>/ and DIR/test/<digit>/, the
// layout `train --data DIR` reads. The images are made, not stored: the set is rebuilt
// identically from its seed.
//
//   node dist/bench/digits-folder.js --out DIR [--train 240] [--test 60] [--seed 0]
//   npx simdnet train --model mobilenetv2 --alpha 0.35 --recipe robust --data DIR --out runs/digits

import { join } from 'node:path';
import { loadSigns } from '../src/data/signs.js';
import type { ImageSet } from '../src/data/image-set.js';
import { seededRandom } from '../src/training/random.js';
import { flag, outFolder, writePng } from './folder-set.js';

const SIZE = 64, SUPER = 4;

// Segments a-g of a seven-segment digit in a unit box (y down), and which each digit lights.
const SEGMENTS: Record<string, [number, number, number, number]> = {
  a: [0, 0, 1, 0], b: [1, 0, 1, 0.5], c: [1, 0.5, 1, 1], d: [0, 1, 1, 1], e: [0, 0.5, 0, 1], f: [0, 0, 0, 0.5], g: [0, 0.5, 1, 0.5],
};
const DIGITS = ['abcdef', 'bc', 'abged', 'abgcd', 'fgbc', 'afgcd', 'afgedc', 'abc', 'abcdefg', 'abcdfg'];

function distanceToSegment(px: number, py: number, [x0, y0, x1, y1]: number[]): number {
  const dx = x1 - x0, dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

// One image: a background crop (scaled up from a random window of a photo), then the digit.
function draw(digit: number, photos: ImageSet, rand: () => number): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE * 3);
  const src = Math.floor(rand() * photos.size), H = photos.height, W = photos.width;
  const win = 0.5 + 0.5 * rand(), ox = rand() * (1 - win) * W, oy = rand() * (1 - win) * H;
  const photo = photos.pixels.subarray(src * H * W * 3, (src + 1) * H * W * 3);
  // The digit's frame: height 40-75% of the image, width 45-65% of its height, slant, rotation.
  const h = SIZE * (0.4 + 0.35 * rand()), w = h * (0.45 + 0.2 * rand()), slant = (rand() - 0.5) * 0.5;
  const angle = (rand() - 0.5) * (Math.PI / 6), cos = Math.cos(angle), sin = Math.sin(angle);
  const cx = SIZE / 2 + (rand() - 0.5) * (SIZE - w) * 0.6, cy = SIZE / 2 + (rand() - 0.5) * (SIZE - h) * 0.6;
  const thickness = (0.07 + 0.08 * rand()) * h;
  const colour = [rand(), rand(), rand()].map((v) => 255 * v);
  const segments = [...DIGITS[digit]].map((s) => SEGMENTS[s]);
  const noise = 4 + 10 * rand();
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      let cover = 0;
      for (let sy = 0; sy < SUPER; sy++) {
        for (let sx = 0; sx < SUPER; sx++) {
          // The sample in the digit's frame: unrotate, unslant, scale to the unit box.
          const px = x + (sx + 0.5) / SUPER - cx, py = y + (sy + 0.5) / SUPER - cy;
          const rx = cos * px + sin * py, ry = -sin * px + cos * py;
          const u = (rx - slant * ry) / w + 0.5, v = ry / h + 0.5;
          const d = Math.min(...segments.map((s) => distanceToSegment(u * w, v * h, [s[0] * w, s[1] * h, s[2] * w, s[3] * h])));
          if (d <= thickness / 2) cover++;
        }
      }
      const alpha = cover / (SUPER * SUPER);
      const bx = Math.min(W - 1, Math.floor(ox + (x / SIZE) * win * W)), by = Math.min(H - 1, Math.floor(oy + (y / SIZE) * win * H));
      for (let c = 0; c < 3; c++) {
        const bg = photo[(by * W + bx) * 3 + c];
        const v = alpha * colour[c] + (1 - alpha) * bg + noise * (rand() + rand() + rand() - 1.5);
        out[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const out = outFolder(argv, 'node dist/bench/digits-folder.js --out DIR [--train 240] [--test 60] [--seed 0]');
  const perClass = { train: Number(flag(argv, 'train', '240')), test: Number(flag(argv, 'test', '60')) };
  const seed = Number(flag(argv, 'seed', '0'));
  const signs = await loadSigns();
  for (const split of ['train', 'test'] as const) {
    const rand = seededRandom(seed * 2 + (split === 'train' ? 0 : 1));
    const photos = split === 'train' ? signs.train : signs.test;
    for (let digit = 0; digit < 10; digit++) {
      const dir = join(out, split, String(digit));
      for (let i = 0; i < perClass[split]; i++) writePng(join(dir, `${i}.png`), draw(digit, photos, rand), SIZE, SIZE);
    }
  }
  console.log(`wrote ${10 * perClass.train} training and ${10 * perClass.test} test images of 10 classes to ${out}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
