// Messages between the main thread and the HDF5 reading worker (hdf5-reader.ts).

export interface H5Entry {
  kind: 'group' | 'dataset';
  attrs: Record<string, unknown>;
  children?: string[];   // groups
  shape?: number[];      // datasets
  type?: number;         // HDF5 type class: 0 integer, 1 float
  size?: number;         // bytes per value
  signed?: boolean;
  filters?: number;      // compression and the like
}

export type H5RequestBody =
  | { op: 'open'; path?: string; bytes?: Uint8Array }
  | { op: 'read'; handle: number; dataset: string }
  | { op: 'close'; handle: number };

export type H5Request = H5RequestBody & { id: number };

export interface H5Response {
  id: number;
  error?: string;
  handle?: number;
  entries?: Record<string, H5Entry>;
  value?: unknown;
}

export { hdf5Reason } from '../platform/hdf5-reason.js';
