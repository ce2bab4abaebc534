// SIGNS photos "re-shot" with another camera, as a class-folder set to measure what fine-tuning
// buys when one's photos differ (issue 26): every image through the same three other-camera
// framings at once, a close-up (the central 45%), warm light and a softer sensor. A few dozen
// training photos per sign (from SIGNS's training set) in DIR/train/<sign>/, all 120 test photos
// in DIR/test/<sign>/, PNG files; `train --data DIR` and `evaluate --data DIR/test` read them.
//
//   node dist/bench/camera-folder.js --out DIR [--per-class 30] [--seed 0]

import { join } from 'node:path';
import { CAMERA_SHIFTS } from '../src/data/robustness.js';
import type { ImageSet } from '../src/data/image-set.js';
import { loadSigns } from '../src/data/signs.js';
import { permutation, seededRandom } from '../src/training/random.js';
import { flag, outFolder, writePng } from './folder-set.js';

// The other camera: which of CAMERA_SHIFTS it combines, in order.
const CAMERA = ['close-up (central 45%)', 'warm light (about 3000 K)', 'softer sensor (down to 40% and back)'];

function reshoot(src: Uint8Array, H: number, W: number, image: number): Uint8Array {
  let out = src;
  for (const name of CAMERA) {
    const shift = CAMERA_SHIFTS.find((s) => s.name === name);
    if (!shift) throw new Error(`no camera shift named "${name}"`);
    out = shift.apply(out, H, W, image);
  }
  return out;
}

// Writes the images of `set` at `indices` into dir/<class name>/.
function writeSplit(set: ImageSet, indices: number[], dir: string): void {
  const [H, W] = set.sampleShape, row = H * W * 3;
  for (const i of indices) {
    const cls = set.classNames[set.labels[i]];
    writePng(join(dir, cls, `${i}.png`), reshoot(set.pixels.subarray(i * row, (i + 1) * row), H, W, i), H, W);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const out = outFolder(argv, 'node dist/bench/camera-folder.js --out DIR [--per-class 30] [--seed 0]');
  const perClass = Number(flag(argv, 'per-class', '30'));
  const { train, test } = await loadSigns();
  // perClass training photos of each sign, drawn at random (seeded).
  const order = permutation(train.size, seededRandom(Number(flag(argv, 'seed', '0'))));
  const taken = new Map<number, number>();
  const picked: number[] = [];
  for (const i of order) {
    const k = train.labels[i];
    if ((taken.get(k) ?? 0) < perClass) { picked.push(i); taken.set(k, (taken.get(k) ?? 0) + 1); }
  }
  writeSplit(train, picked, join(out, 'train'));
  writeSplit(test, Array.from({ length: test.size }, (_, i) => i), join(out, 'test'));
  console.log(`wrote ${picked.length} training and ${test.size} test photos through ${CAMERA.join(', ')} to ${out}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
