// Locations inside the installed package, whether running from src/ (tests) or dist/src/.
import { SimdnetError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

// The folder holding simdnet's package.json.
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'simdnet') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new SimdnetError('simdnet: cannot find the package root (package.json named "simdnet")');
    dir = up;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}
