// The API reference (`npm run docs`, TypeDoc) builds with no warning: every export of the
// library has a doc comment, and every {@link} resolves (typedoc.json: warnings are errors).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

test('TypeDoc documents every export without a warning', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const said = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
  expect(said).not.toMatch(/\[warning\]|\[error\]/);
  expect(r.status, said).toBe(0);
}, 120_000);
