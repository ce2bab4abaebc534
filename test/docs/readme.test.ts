// The README's blocks marked `<!-- runnable -->` run as written, in a fresh folder where simdnet is
// installed as a user's project has it (node_modules/simdnet and its `simdnet` command), with a
// few SIGNS photos as `hand.jpg` and a folder of class folders as `photos/`: shell blocks with
// bash, JavaScript blocks as an ES module. And the README stays a guide: at most 260 lines.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { signsDir } from '../helpers/goldens.js';
import { testScratchDir } from '../helpers/scratch.js';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

const blocks = [...readme.matchAll(/<!-- runnable -->\n```(sh|js)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));

function project(): string {
  const dir = testScratchDir('simdnet-readme-');
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/simdnet'), 'dir');
  symlinkSync(join(root, 'dist/src/cli/main.js'), join(dir, 'node_modules/.bin/simdnet'));
  chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  const jpegs = join(signsDir, 'jpeg/test_signs');
  const photos = readdirSync(jpegs).sort();
  copyFileSync(join(jpegs, photos.find((p) => p.startsWith('3_'))!), join(dir, 'hand.jpg'));
  for (const label of ['0', '1', '2']) {
    mkdirSync(join(dir, 'photos', `sign-${label}`), { recursive: true });
    for (const f of photos.filter((p) => p.startsWith(`${label}_`)).slice(0, 10)) copyFileSync(join(jpegs, f), join(dir, 'photos', `sign-${label}`, f));
  }
  return dir;
}

describe('README', () => {
  test('is a guide: at most 260 lines, with runnable blocks', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(260);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  test('every runnable block runs as written, in order, in a fresh project', () => {
    const dir = project();
    for (const [i, b] of blocks.entries()) {
      const env = { ...process.env, SIMDNET_DATA: signsDir, npm_config_yes: 'true', npm_config_offline: 'true' };
      let r;
      if (b.lang === 'sh') r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', b.code], { cwd: dir, encoding: 'utf8', env, timeout: 600_000 });
      else {
        writeFileSync(join(dir, `block-${i}.mjs`), b.code);
        r = spawnSync(process.execPath, [`block-${i}.mjs`], { cwd: dir, encoding: 'utf8', env, timeout: 600_000 });
      }
      expect(r.status, `block ${i} (${b.lang}):\n${b.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBe(0);
    }
  }, 900_000);
});
