// The errors simdnet throws, so that a program can catch one kind and let the others through.
// Every message starts with "simdnet:" and names what was wrong and where.

/** The base of every error simdnet throws; its message starts with "simdnet:". */
export class SimdnetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith('simdnet') ? message : `simdnet: ${message}`, options);
    this.name = new.target.name;
  }
}

/** A bad argument, option, layer setting or model config: the call can never succeed as made. */
export class ArgumentError extends SimdnetError {}

/** A file that is missing, unreadable, too large or not what it claims to be. */
export class FileError extends SimdnetError {}

/** A data file or image (SIGNS HDF5, an image folder, a photo). */
export class DataFileError extends FileError {}

/** A model file (HDF5 in Keras's layout). */
export class ModelFileError extends FileError {}

/**
 * A worker thread died or timed out during a step. `stepApplied` says whether the step's update
 * was completed (the model is as after the step) or not applied at all (as before it).
 */
export class WorkerFailure extends SimdnetError {
  constructor(message: string, readonly stepApplied = false) {
    super(message);
  }
}

/**
 * A training step whose loss is NaN or infinite: no update was applied and the moving statistics
 * were restored.
 * A call stopped by its AbortSignal (Ctrl-C in the CLI) before it finished.
 */
export class AbortedError extends SimdnetError {}

/** Training stopped: the loss of a batch was NaN or infinite (the weights are left as they were before that step). */
export class NonFiniteLossError extends SimdnetError {
  constructor(readonly loss: number, where = '') {
    super(`simdnet: the loss became ${loss}${where ? ` ${where}` : ''}; the weights, optimizer state and moving ` +
      'statistics were left as before that batch (try a lower learning rate, or check the data for extreme values)');
  }
}

/** A model output that is NaN or infinite: weights or inputs out of the range float32 can carry. */
export class NonFiniteOutputError extends SimdnetError {}

/** JSON.stringify writes NaN and Infinity as null; error messages must show what was passed. */
export function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
