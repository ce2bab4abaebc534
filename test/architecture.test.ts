// The folders of src/ import downward only: cli -> serve (the prediction server) -> recipes (the tutorial's training runs) ->
// models/data/io/report -> engine/training/layers -> kernels -> platform, with the root files
// (tensor, errors, version) below everything and the entries above it: library.ts, index.ts and browser.ts (the package's, for Node and for pages) and the
// worker scripts that each platform starts (platform/*-worker.ts). A folder may import itself and
// any folder listed before it here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

const tiers = ['(root)', 'platform', 'kernels', 'layers', 'training', 'engine', 'models', 'io', 'data', 'report', 'recipes', 'serve', 'cli', '(entry)'];
const src = resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const tierOf = (file: string): string => {
  const rel = relative(src, file);
  if (rel === 'index.ts' || rel === 'browser.ts' || rel === 'library.ts' || /^platform\/[^/]+-worker\.ts$/.test(rel)) return '(entry)';
  return rel.includes('/') ? rel.split('/')[0] : '(root)';
};

test('every folder of src/ has a tier', () => {
  for (const f of files(src)) expect(tiers, relative(src, f)).toContain(tierOf(f));
});

test('folders import only themselves and the folders below them', () => {
  const bad: string[] = [];
  for (const f of files(src)) {
    const from = tierOf(f);
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
      const target = tierOf(resolve(join(f, '..'), m[1]).replace(/\.js$/, '.ts'));
      if (tiers.indexOf(target) > tiers.indexOf(from)) bad.push(`${relative(src, f)} (${from}) imports ${m[1]} (${target})`);
    }
  }
  expect(bad).toEqual([]);
});
