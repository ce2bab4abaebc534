// What the scripts that build class-folder sets share: their flags, a fresh output folder, and
// the images written as PNG files.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodePng } from '../src/report/png-encoder.js';

/** The value of `--name` in argv, or the fallback. */
export function flag(argv: string[], name: string, fallback?: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** --out, which must be missing or empty: a set is never written over another. */
export function outFolder(argv: string[], usage: string): string {
  const out = flag(argv, 'out');
  if (!out) throw new Error(`usage: ${usage}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`--out ${out}: the folder is not empty`);
  return out;
}

/** An RGB image (H x W x 3 bytes) as a PNG file at `path`, its folder made if needed. */
export function writePng(path: string, rgb: Uint8Array, H: number, W: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(rgb, H, W));
}
