// Command-line options: node's parseArgs in strict mode, with values checked and errors that
// name the flag. A UsageError exits with status 2, other errors with 1.

import { ArgumentError } from '../errors.js';
import { parseArgs } from 'node:util';

// A bad command line: exits with status 2.
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
    if (ambiguous) throw new UsageError(`${ambiguous[1]} must be a positive number (got a value starting with "-")`);
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

export function intOption(v: string | undefined, flag: string, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got "${v}"`);
  if (n < min) throw new UsageError(`--${flag} must be at least ${min}, got ${n}`);
  return n;
}

export function floatOption(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${v}"`);
  if (!(n > 0)) throw new UsageError(`--${flag} must be positive, got ${n}`);
  return n;
}
