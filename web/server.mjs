// A static file server for the demo page and the browser tests, on 127.0.0.1. It sends the two
// headers that make a page cross-origin isolated (so that simdnet's workers can share its
// memory) unless told not to, and serves only files under the folders it is given.
//
//   npm run demo                 # http://127.0.0.1:8080/web/ (the port is printed)
//   node web/server.mjs --port 0 --no-isolation
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.h5': 'application/x-hdf5', '.svg': 'image/svg+xml',
};

export const packageRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Starts the server. `mounts` maps URL prefixes to folders (default: '/' to the package root);
 * `isolated` (default true) sends Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp. Resolves to { url, close }.
 */
export function startServer({ port = 8080, host = '127.0.0.1', isolated = true, mounts = { '/': packageRoot } } = {}) {
  const table = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length).map(([p, dir]) => [p, resolve(dir)]);
  const server = createServer((req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad URL');
    }
    if (path.includes('\0')) return send(400, 'bad URL');
    const mount = table.find(([p]) => path.startsWith(p));
    if (!mount) return send(404, 'not found');
    const [prefix, dir] = mount;
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return send(403, 'outside the served folders');
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const st = statSync(file);
      if (!st.isFile()) return send(404, 'not found');
      res.writeHead(200, {
        'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
        ...(isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      send(404, 'not found');
    }
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolveStart({ url: `http://${host}:${bound}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`simdnet: --port must be a whole number from 0 to 65535, got "${args[at + 1]}"`);
    process.exit(2);
  }
  const { url } = await startServer({ port, isolated: !args.includes('--no-isolation') }).catch((err) => {
    console.error(`simdnet: cannot serve the demo on 127.0.0.1:${port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  console.log(`simdnet demo: ${url}/web/  (Ctrl-C stops it)`);
}
