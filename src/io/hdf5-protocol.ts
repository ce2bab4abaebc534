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

// The innermost cause of an HDF5 error, e.g. "File has been truncated".
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const minors = [...text.matchAll(/minor: (.*)/g)].map((m) => m[1].trim());
  return minors.length ? minors[minors.length - 1] : text.split('\n')[0];
}
