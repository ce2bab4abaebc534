// Reads HDF5 files for the main thread, in a worker: HDF5 (compiled to WebAssembly) can loop
// forever on some corrupt metadata, and only a worker can be stopped when it does. This is the
// worker's side; platform/*-hdf5-worker.ts run it behind each platform's message loop.

import type { Dataset, File as H5File, Group } from 'h5wasm';
import type h5wasmModule from 'h5wasm';
import { hdf5Reason as reason, type H5Entry, type H5Request, type H5Response } from './hdf5-protocol.js';

type H5 = typeof h5wasmModule;

/**
 * Where a file given as bytes is put for HDF5 to open: a temporary file (Node) or the module's
 * in-memory file system (a page).
 */
export interface BytesStore {
  put(bytes: Uint8Array): string;
  drop(path: string): void;
}

function attrsOf(e: Group | Dataset): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(e.attrs)) out[name] = a.value;
  return out;
}

// Every group and dataset of the file, with their attributes and shapes, by path.
function snapshot(h5: H5, f: H5File): Record<string, H5Entry> {
  const out: Record<string, H5Entry> = { '': { kind: 'group', attrs: attrsOf(f), children: f.keys() } };
  const stack: [Group, string][] = [[f, '']];
  while (stack.length) {
    const [g, at] = stack.pop()!;
    for (const name of g.keys()) {
      const path = at ? `${at}/${name}` : name;
      const e = g.get(name);
      if (!e) continue;
      if (e instanceof h5.Group) {
        out[path] = { kind: 'group', attrs: attrsOf(e), children: e.keys() };
        stack.push([e, path]);
      } else if (e instanceof h5.Dataset) {
        const m = e.metadata;
        out[path] = { kind: 'dataset', attrs: attrsOf(e), shape: (e.shape as number[] | null) ?? [], type: m.type, size: m.size, signed: m.signed, filters: e.filters.length };
      }
    }
  }
  return out;
}

/** The request handler of one reader thread. */
export function hdf5Reader(ready: Promise<H5>, store: BytesStore): (r: H5Request) => Promise<H5Response> {
  const files = new Map<number, { f: H5File; stored?: string }>();
  let next = 1;
  return async (r) => {
    const h5 = await ready;
    if (r.op === 'open') {
      const stored = r.bytes ? store.put(r.bytes) : undefined;
      let f: H5File;
      try {
        f = new h5.File(stored ?? r.path!, 'r');
      } catch (err) {
        if (stored) store.drop(stored);
        return { id: r.id, error: `not a readable HDF5 file (${reason(err)})` };
      }
      if (!f || !(f.file_id > 0n)) {
        if (stored) store.drop(stored);
        return { id: r.id, error: 'not a readable HDF5 file (truncated or corrupt)' };
      }
      const handle = next++;
      files.set(handle, { f, stored });
      try {
        return { id: r.id, handle, entries: snapshot(h5, f) };
      } catch (err) {
        files.delete(handle);
        f.close();
        if (stored) store.drop(stored);
        return { id: r.id, error: `cannot read its structure (${reason(err)}); the file may be truncated or corrupt` };
      }
    }
    const open = files.get(r.handle);
    if (!open) return { id: r.id, error: 'internal: the file is not open' };
    if (r.op === 'close') {
      files.delete(r.handle);
      try { open.f.close(); } catch { /* closing a corrupt file may fail; it is gone either way */ }
      if (open.stored) store.drop(open.stored);
      return { id: r.id };
    }
    try {
      const d = open.f.get(r.dataset) as Dataset;
      return { id: r.id, value: d.value };
    } catch (err) {
      return { id: r.id, error: `cannot read "${r.dataset}" (${reason(err)}); the file may be truncated or corrupt` };
    }
  };
}

/** The buffer a reply can hand over instead of copying: a typed array that owns its buffer. */
export function transferable(res: H5Response): ArrayBuffer[] {
  const v = res.value as { buffer?: ArrayBuffer; byteOffset?: number; byteLength?: number } | undefined;
  const owns = v?.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
  return owns ? [v!.buffer as ArrayBuffer] : [];
}
