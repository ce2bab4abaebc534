// The platform seam: everything that differs between Node and a page lives in src/platform/, and
// the library around it (all that the browser build reaches) imports no Node built-in, piscina,
// h5wasm's Node build or pngjs. The CLI is a Node program and may. The browser build must hold
// no Node import either, and the version constant must be package.json's.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { VERSION } from '../../src/version.js';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(p) ? [p] : [];
  });
}

const NODE_ONLY = /^(node:|piscina$|h5wasm\/node$|pngjs$|fs$|path$|os$|worker_threads$|child_process$)/;
const importsOf = (text: string) => [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);

test('nothing outside src/platform/node*.ts, the CLI and the server imports node:*, piscina, h5wasm/node or pngjs', () => {
  const offenders: string[] = [];
  let checked = 0;
  for (const f of files(src, /\.ts$/)) {
    const rel = relative(src, f);
    // The CLI and the prediction server are Node programs; index.ts is Node's entry (the server).
    if (/^platform\/node[^/]*\.ts$/.test(rel) || rel.startsWith('cli/') || rel.startsWith('serve/') || rel === 'index.ts') continue;
    checked++;
    for (const m of importsOf(readFileSync(f, 'utf8'))) if (NODE_ONLY.test(m)) offenders.push(`${rel} imports ${m}`);
  }
  expect(checked).toBeGreaterThan(60);
  expect(offenders).toEqual([]);
});

test('the check above sees an import of node:fs where there is one', () => {
  expect(importsOf("import { readFileSync } from 'node:fs';\nconst x = await import('piscina');").filter((m) => NODE_ONLY.test(m))).toEqual(['node:fs', 'piscina']);
});

test('the browser build holds no Node import, and starts its workers by the names it ships them under', () => {
  const dir = join(root, 'dist/browser');
  const built = files(dir, /\.js$/);
  expect(built.map((f) => relative(dir, f))).toEqual(expect.arrayContaining(['simdnet.js', 'browser-engine-worker.js', 'browser-hdf5-worker.js']));
  for (const f of built) {
    const text = readFileSync(f, 'utf8');
    expect(text.match(/(?:from|import\()\s*["']node:[a-z_]+["']/g), relative(root, f)).toBeNull();
    for (const [, name] of text.matchAll(/new URL\("\.\/([^"]+)", import\.meta\.url\)/g)) expect(built.map((b) => relative(dir, b)), name).toContain(name);
  }
});

test('VERSION is package.json\'s version', () => {
  expect(VERSION).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
});

test('the report\'s PNG writer writes what pngjs reads back, pixel for pixel', async () => {
  const { encodePng } = await import('../../src/report/png-encoder.js');
  const { PNG } = await import('pngjs');
  // Wide enough that the image data spans two stored deflate blocks.
  const width = 200, height = 120;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7919) % 251);
  const back = PNG.sync.read(Buffer.from(encodePng(rgb, height, width)));
  expect([back.width, back.height]).toEqual([width, height]);
  for (let i = 0; i < width * height; i++) {
    expect([back.data[4 * i], back.data[4 * i + 1], back.data[4 * i + 2], back.data[4 * i + 3]]).toEqual([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255]);
  }
});
