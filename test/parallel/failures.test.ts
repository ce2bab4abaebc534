import { expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

// The script runs from dist/, which `npm test` builds first.
test('a worker killed in the middle of a step ends the step with an error naming it and its layer; the process exits by itself', () => {
  const script = resolve(import.meta.dirname, '../fixtures/kill-worker.mjs');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 90_000 });
  const out = r.stdout + r.stderr;
  expect(r.signal, `the process hung:\n${out}`).toBeNull();
  expect(r.status, out).toBe(0);
  const m = /RESULT error after (\d+) ms: (.*)/.exec(out);
  expect(m, out).not.toBeNull();
  expect(Number(m![1])).toBeLessThan(10_000);
  expect(m![2]).toMatch(/worker 1 failed in layer "[a-z0-9_]+" \((forward|backward)\)/);
  expect(out).toContain('WEIGHTS unchanged');
  expect(out).toMatch(/RECOVERED loss \d/);
  expect(Date.now() - t0).toBeLessThan(90_000);
});

test('a barrier that waits past its timeout ends the step with an error naming the worker and the layer', () => {
  const script = resolve(import.meta.dirname, '../fixtures/barrier-timeout.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 90_000, env: { ...process.env, SIMDNET_BARRIER_TIMEOUT_MS: '1' } });
  const out = r.stdout + r.stderr;
  expect(r.signal, `the process hung:\n${out}`).toBeNull();
  expect(r.status, out).toBe(0);
  expect(out).toMatch(/RESULT error: simdnet: worker [01] failed (in layer "[a-z0-9_]+" \((forward|backward)\)|in the loss|in the gradient reduction|in the update): timed out after 1 ms waiting for the other workers at (layer "[a-z0-9_]+" \((forward|backward)\)|the loss|the gradient reduction|the update)/);
  // A timeout at the update's barrier comes after every worker saw the gradients complete: the step is then
  // completed on the main thread; anywhere else it is abandoned.
  expect(out).toContain(out.includes('APPLIED true') ? 'WEIGHTS changed' : 'WEIGHTS unchanged');
});
