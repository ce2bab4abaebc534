// Command-line options: node's parseArgs in strict mode, with values checked and errors that
// name the flag. A UsageError exits with status 2, other errors with 1.

import { ArgumentError } from '../errors.js';
import { MAX_THREADS } from '../models/model.js';
import { parseArgs } from 'node:util';

/** A bad command line: exits with status 2. */
export class UsageError extends ArgumentError {}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | undefined>; // string options
  flags: Record<string, boolean | undefined>; // boolean options, and help
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec, command: string): Parsed {
  let r;
  try {
    r = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message;
    const ambiguous = /Option '(--[\w-]+)' argument is ambiguous/.exec(msg);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} takes no negative value (got one starting with "-")`);
    throw new UsageError(`${msg.split('\n')[0].replace(/\. To specify.*$/, '')} (see "simdnet ${command} --help")`);
  }
  const values: Parsed['values'] = {}, flags: Parsed['flags'] = {};
  for (const [k, v] of Object.entries(r.values as Record<string, unknown>)) {
    if (typeof v === 'boolean') flags[k] = v;
    else if (typeof v === 'string') {
      if (v.startsWith('--')) throw new UsageError(`--${k} needs a value, got the flag "${v}" (see "simdnet ${command} --help")`);
      values[k] = v;
    }
  }
  return { values, flags, positionals: r.positionals };
}

/** A whole number in decimal digits ("0x10" and "1e3" are refused, not read as 16 and 1000). */
export function intOption(v: string | undefined, flag: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!/^\s*-?\d+\s*$/.test(v)) throw new UsageError(`--${flag} must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min) throw new UsageError(`--${flag} must be ${min === 0 ? 'zero or more' : `at least ${min}`}, got ${n}`);
  if (n > max) throw new UsageError(`--${flag} must be at most ${max}, got ${n}`);
  return n;
}

export const threadsOption = (v: string | undefined): number | undefined =>
  v === undefined ? undefined : intOption(v, 'threads', 1, 1, MAX_THREADS);

export function floatOption(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${v}"`);
  if (!(n > 0)) throw new UsageError(`--${flag} must be positive, got ${n}`);
  // Training computes in float32: 1e300 would become infinity there, 1e-50 zero.
  const f = Math.fround(n);
  if (!Number.isFinite(f) || f === 0) throw new UsageError(`--${flag} ${v} is ${f === 0 ? 'too small' : 'too large'} for float32, in which training computes (about 1.2e-38 to 3.4e38)`);
  return n;
}

/** --max-image-memory MB: what decoding one image may take (judged from its header), in bytes. */
export const imageMemoryOption = (v: string | undefined): number => intOption(v, 'max-image-memory', 256, 16, 4096) * 2 ** 20;

export const IMAGE_MEMORY_HELP = '  --max-image-memory MB  what decoding one image may take, judged from its header before\n' +
  '                     decoding (256; about 16 megapixels)';
