// What `npm pack` ships: the compiled library and CLI with their types, the kernels' WebAssembly
// builds (the debug one too: SIMDNET_KERNELS=debug), the browser build, the README and changelog; no tests, fixtures, benchmarks,
// sources of the kernels or examples' outputs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

test('npm pack ships the builds, types and docs, and nothing of the tests or benches', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[]; version: string; size: number }[];
  const files = pack.files.map((f) => f.path);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(pack.version).toBe(pkg.version);
  for (const must of ['package.json', 'README.md', 'CHANGELOG.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js',
    'dist/src/browser.js', 'dist/browser/simdnet.js', 'build/simdnet.wasm', 'build/simdnet-relaxed.wasm', 'dist/src/layers/depthwise-conv2d.js',
    'dist/src/models/mobilenetv2.d.ts']) {
    expect(files, must).toContain(must);
  }
  const shipped = (re: RegExp) => files.filter((f) => re.test(f));
  expect(shipped(/^(test|bench|dist\/bench|dist\/test|assembly|examples|web|docs|runs|\.ci)\//)).toEqual([]);
  expect(shipped(/\.(h5|onnx|ts)$/).filter((f) => !f.endsWith('.d.ts'))).toEqual([]);
  expect(shipped(/\.wat$/)).toEqual([]);
  // The package stays small.
  expect(pack.size).toBeLessThan(10 * 2 ** 20);
}, 120_000);
