// The cause of an HDF5 failure in a few words, out of the diagnostic stack h5wasm throws: the
// errno inside it where there is one (h5wasm reports a full disk as "errno = 28" deep in the
// stack), else the innermost "minor:" line, e.g. "File has been truncated".

const ERRNO: Record<number, string> = { 2: 'no such file or folder', 13: 'permission denied', 28: 'the disk is full', 30: 'a read-only file system', 122: 'the disk quota is exceeded' };

export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const errno = /errno = (\d+)/.exec(text);
  if (errno && ERRNO[Number(errno[1])]) return ERRNO[Number(errno[1])];
  const minors = [...text.matchAll(/minor: (.*)/g)].map((m) => m[1].trim());
  return minors.length ? minors[minors.length - 1] : text.split('\n')[0];
}
