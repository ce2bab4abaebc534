// Reads HDF5 files for the main thread, in a worker: HDF5 (compiled to WebAssembly) can loop
// forever on some corrupt metadata, and only a worker can be stopped when it does.

import { parentPort } from 'node:worker_threads';
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { hdf5Reason as reason, type H5Entry, type H5Request, type H5Response } from './hdf5-protocol.js';

const ready = h5wasm.ready.then((m) => {
  m.activate_throwing_error_handler();
  return h5wasm;
});
const files = new Map<number, H5File>();
let next = 1;

function attrsOf(e: Group | Dataset): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(e.attrs)) out[name] = a.value;
  return out;
}

// Every group and dataset of the file, with their attributes and shapes, by path.
function snapshot(f: H5File): Record<string, H5Entry> {
  const out: Record<string, H5Entry> = { '': { kind: 'group', attrs: attrsOf(f), children: f.keys() } };
  const stack: [Group, string][] = [[f, '']];
  while (stack.length) {
    const [g, at] = stack.pop()!;
    for (const name of g.keys()) {
      const path = at ? `${at}/${name}` : name;
      const e = g.get(name);
      if (!e) continue;
      if (e instanceof h5wasm.Group) {
        out[path] = { kind: 'group', attrs: attrsOf(e), children: e.keys() };
        stack.push([e, path]);
      } else if (e instanceof h5wasm.Dataset) {
        const m = e.metadata;
        out[path] = { kind: 'dataset', attrs: attrsOf(e), shape: (e.shape as number[] | null) ?? [], type: m.type, size: m.size, signed: m.signed, filters: e.filters.length };
      }
    }
  }
  return out;
}

async function handle(r: H5Request): Promise<H5Response> {
  const h5 = await ready;
  if (r.op === 'open') {
    let f: H5File;
    try {
      f = new h5.File(r.path, 'r');
    } catch (err) {
      return { id: r.id, error: `not a readable HDF5 file (${reason(err)})` };
    }
    if (!f || !(f.file_id > 0n)) return { id: r.id, error: 'not a readable HDF5 file (truncated or corrupt)' };
    const handle = next++;
    files.set(handle, f);
    try {
      return { id: r.id, handle, entries: snapshot(f) };
    } catch (err) {
      files.delete(handle);
      f.close();
      return { id: r.id, error: `cannot read its structure (${reason(err)}); the file may be truncated or corrupt` };
    }
  }
  const f = files.get(r.handle);
  if (!f) return { id: r.id, error: 'internal: the file is not open' };
  if (r.op === 'close') {
    files.delete(r.handle);
    try { f.close(); } catch { /* closing a corrupt file may fail; it is gone either way */ }
    return { id: r.id };
  }
  try {
    const d = f.get(r.dataset) as Dataset;
    return { id: r.id, value: d.value };
  } catch (err) {
    return { id: r.id, error: `cannot read "${r.dataset}" (${reason(err)}); the file may be truncated or corrupt` };
  }
}

parentPort!.on('message', (r: H5Request) => {
  handle(r).then((res) => {
    const v = res.value as { buffer?: ArrayBuffer; byteOffset?: number; byteLength?: number } | undefined;
    // A typed array that owns its buffer moves to the main thread instead of being copied.
    const owns = v?.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
    parentPort!.postMessage(res, owns ? [v!.buffer as ArrayBuffer] : []);
  }, (err: unknown) => parentPort!.postMessage({ id: r.id, error: String(err) }));
});
