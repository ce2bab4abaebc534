// Files are written whole or not at all: to a temporary name beside the file, then renamed (a
// reader never sees half a file; a crash leaves only a temporary, which removeStaleTemporaries
// clears).

import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError, SimdnetError } from './errors.js';

// Writes `path` through a temporary file in the same folder, renamed into place once complete;
// removes the temporary on failure and names the file in the error.
export async function writeAtomically(path: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof SimdnetError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileError(`simdnet: cannot write ${path}: ${code === 'ENOSPC' ? 'the disk is full' : code ?? (err as Error).message.split('\n')[0]}`);
  }
}
