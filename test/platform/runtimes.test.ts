// The same build under Node, Bun and Deno (their npm packages ship the runtimes): one epoch of the
// ConvNet in deterministic mode on two workers gives the same loss and weights to the bit, and
// the CLI runs under each.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { signsDir } from '../helpers/goldens.js';

const root = resolve(import.meta.dirname, '../..');
const bin = (name: string) => resolve(root, 'node_modules/.bin', name);
const RUNTIMES: Record<string, string[]> = {
  node: [process.execPath],
  bun: [bin('bun')],
  deno: [bin('deno'), 'run', '-A'],
};
// The kernels pinned, as measured choices could differ between runs.
const env = { ...process.env, SIMDNET_KERNELS: 'simd', SIMDNET_CONV_ALGORITHM: 'im2col', SIMDNET_GEMM_BLOCKING: '4,120,256,1024', SIMDNET_TUNING_CACHE: 'off' };

function run(runtime: string, ...args: string[]): { out: string; status: number | null } {
  const [cmd, ...pre] = RUNTIMES[runtime];
  const r = spawnSync(cmd, [...pre, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`, status: r.status };
}

test('one epoch of the ConvNet: the same loss and weights under Node, Bun and Deno, bit for bit', () => {
  const results: Record<string, string> = {};
  for (const runtime of Object.keys(RUNTIMES)) {
    const { out, status } = run(runtime, 'test/fixtures/train-one-epoch.mjs', signsDir);
    expect(status, `${runtime}: ${out}`).toBe(0);
    expect(out, runtime).toMatch(new RegExp(`RUNTIME ${runtime} \\d`));
    results[runtime] = /RESULT (.*)/.exec(out)?.[1] ?? `no result: ${out}`;
  }
  console.log(results);
  expect(results.node).toMatch(/^loss 1\.\d+ \([0-9a-f]{16}\) weights [0-9a-f]{16}$/);
  expect(results.bun).toBe(results.node);
  expect(results.deno).toBe(results.node);
});

test('the CLI runs under Bun and Deno: summary prints Keras\'s table, a bad flag gets the usual message', () => {
  for (const runtime of ['bun', 'deno']) {
    const summary = run(runtime, 'dist/src/cli/main.js', 'summary', '--model', 'convnet');
    expect(summary.status, `${runtime}: ${summary.out}`).toBe(0);
    expect(summary.out).toMatch(/Total params: 1,286\n/);
    const bad = run(runtime, 'dist/src/cli/main.js', 'train', '--model', 'convnet', '--epochs', 'many');
    expect(bad.status, runtime).toBe(2);
    expect(bad.out).toMatch(/^simdnet: --epochs/m);
  }
});
