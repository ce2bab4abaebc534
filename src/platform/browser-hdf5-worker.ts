// The HDF5 reader thread in a page (io/hdf5-reader.ts behind a Web Worker's messages): files come
// as bytes and are opened from h5wasm's in-memory file system.

import h5wasm from 'h5wasm';
import { hdf5Reader, transferable } from '../io/hdf5-reader.js';
import type { H5Request } from '../io/hdf5-protocol.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<H5Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

let fs: Awaited<typeof h5wasm.ready>['FS'] | undefined;
const ready = h5wasm.ready.then((m) => {
  m.activate_throwing_error_handler();
  fs = m.FS;
  return h5wasm;
});
let stored = 0;
// put and drop run after `ready` (the reader awaits it first).
const handle = hdf5Reader(ready, {
  put(bytes) {
    const path = `/simdnet-read-${stored++}.h5`;
    fs!.writeFile(path, bytes);
    return path;
  },
  drop: (path) => {
    try { fs!.unlink(path); } catch { /* gone already */ }
  },
});

scope.onmessage = (e) => {
  const r = e.data;
  handle(r).then((res) => scope.postMessage(res, transferable(res)),
    (err: unknown) => scope.postMessage({ id: r.id, error: String(err) }, []));
};
