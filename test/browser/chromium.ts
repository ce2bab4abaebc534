// Headless Chromium for the browser tests (web/chromium.mjs: the binary inside the npm package
// @sparticuz/chromium, driven by puppeteer-core). Pages come from web/server.mjs on 127.0.0.1, with the package at / and
// ../shared at /shared/; test/browser/page/*.ts are bundled for them under /tests/, with their
// imports of the library pointed at the browser build (/dist/browser/simdnet.js), so that the
// page runs exactly what a user's page runs.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { sharedDir } from '../helpers/goldens.js';
// @ts-expect-error: a plain ES module without types
import { startServer, packageRoot } from '../../web/server.mjs';
// @ts-expect-error: a plain ES module without types
import { launchChromium } from '../../web/chromium.mjs';

export interface BrowserSession {
  browser: Browser;
  url: string;
  // The folder served at /tests/ (the bundled page code; tests put files for the page there).
  pagesDir: string;
  // A page of the server, with its console errors and page errors collected.
  open(path: string, server?: 'isolated' | 'plain'): Promise<{ page: Page; errors: string[]; warnings: string[] }>;
  close(): Promise<void>;
}

// The library's import in the page modules, pointed at the browser bundle.
const toBundle = {
  name: 'simdnet-browser-build',
  setup(b: { onResolve(o: { filter: RegExp }, f: () => { path: string; external: boolean }): void }) {
    b.onResolve({ filter: /\/src\/(index|browser)\.js$/ }, () => ({ path: '/dist/browser/simdnet.js', external: true }));
  },
};

export async function startBrowser(): Promise<BrowserSession> {
  const pages = mkdtempSync(join(tmpdir(), 'simdnet-pages-'));
  await build({
    entryPoints: [resolve(import.meta.dirname, 'page/library-checks.ts')],
    outdir: pages, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', plugins: [toBundle], logLevel: 'warning',
  });
  const mounts = { '/': packageRoot, '/shared/': sharedDir, '/tests/': pages };
  const isolated = await startServer({ port: 0, mounts });
  const plain = await startServer({ port: 0, mounts, isolated: false });
  const browser: Browser = await launchChromium();
  return {
    browser,
    url: isolated.url,
    pagesDir: pages,
    async open(path, server = 'isolated') {
      const page = await browser.newPage();
      const errors: string[] = [], warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
        if (m.type() === 'warn') warnings.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server === 'isolated' ? isolated.url : plain.url}${path}`);
      return { page, errors, warnings };
    },
    async close() {
      await browser.close();
      await isolated.close();
      await plain.close();
      rmSync(pages, { recursive: true, force: true });
    },
  };
}
