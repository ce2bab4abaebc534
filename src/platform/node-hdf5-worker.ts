// The HDF5 reader thread in Node (io/hdf5-reader.ts behind worker_threads' port). Files given as
// bytes go through a temporary file: h5wasm's Node build opens real files.

import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import h5wasm from 'h5wasm/node';
import { hdf5Reader, transferable } from '../io/hdf5-reader.js';
import type { H5Request } from '../io/hdf5-protocol.js';

let stored = 0;
const handle = hdf5Reader(h5wasm.ready.then((m) => {
  m.activate_throwing_error_handler();
  return h5wasm;
}), {
  put(bytes) {
    const path = join(tmpdir(), `simdnet-read-${process.pid}-${stored++}.h5`);
    writeFileSync(path, bytes);
    return path;
  },
  drop: (path) => rmSync(path, { force: true }),
});

// For the deadline's test: SIMDNET_TEST_FAULT=hdf5-hang makes every open loop forever, as HDF5
// did on a corrupt file the fuzz test found.
const hang = process.env.SIMDNET_TEST_FAULT === 'hdf5-hang';

parentPort!.on('message', (r: H5Request) => {
  if (hang && r.op === 'open') for (;;) { /* stuck, as on that file */ }
  handle(r).then((res) => parentPort!.postMessage(res, transferable(res)),
    (err: unknown) => parentPort!.postMessage({ id: r.id, error: String(err) }));
});
