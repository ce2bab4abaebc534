// Bundles the browser build: dist/browser/simdnet.js (an ES module a page imports with no
// bundler of its own) and the two worker scripts it starts, from tsc's output (dist/src), with
// the "browser" condition so that '#platform' is the page's platform. Run by `npm run build`.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  absWorkingDir: root,
  entryPoints: {
    'simdnet': 'dist/src/browser.js',
    // The names platform/browser.ts starts them by (new URL('./<name>.js', import.meta.url)).
    'browser-engine-worker': 'dist/src/platform/browser-engine-worker.js',
    'browser-hdf5-worker': 'dist/src/platform/browser-hdf5-worker.js',
  },
  outdir: 'dist/browser',
  bundle: true,
  // Shared chunks: h5wasm (4 MB) loads once, for the reader thread and for writing, and the
  // engine's workers never load it.
  splitting: true,
  // Beside simdnet.js: the workers' URLs are relative to whichever chunk holds platform/browser.ts.
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  conditions: ['browser'],
  sourcemap: true,
  logLevel: 'warning',
});
