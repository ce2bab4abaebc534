// Reads the PyTorch goldens (../shared/reference/goldens.h5) for tests.
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const sharedDir = process.env.SIMDNET_SHARED ?? resolve(import.meta.dirname, '../../../shared');
export const goldensPath = resolve(sharedDir, 'reference/goldens.h5');
export const signsDir = resolve(sharedDir, 'data/signs');

export interface Arr { data: Float32Array; shape: number[] }
export interface GoldenCase {
  name: string;
  attrs: Record<string, number | string>;
  get(name: string): Arr;
  has(name: string): boolean;
}

let file: H5File | undefined;
async function open(): Promise<H5File> {
  if (file) return file;
  if (!existsSync(goldensPath)) throw new Error(`goldens not found at ${goldensPath} (set SIMDNET_SHARED)`);
  await h5wasm.ready;
  file = new h5wasm.File(goldensPath, 'r');
  return file;
}

function attrsOf(obj: Group): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, a] of Object.entries(obj.attrs)) {
    const v = a.value as unknown;
    out[k] = typeof v === 'bigint' ? Number(v) : (v as number | string);
  }
  return out;
}

function caseOf(g: Group, name: string): GoldenCase {
  return {
    name,
    attrs: attrsOf(g),
    has: (k) => g.keys().includes(k),
    get(k) {
      const d = g.get(k) as Dataset;
      if (!d) throw new Error(`golden ${name}/${k} missing`);
      const v = d.value as unknown;
      const data = v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
      return { data, shape: d.shape as number[] };
    },
  };
}

// Every case under a group, e.g. cases('conv2d'). A group that is missing or empty fails the
// test file that asks for it: a family of generated tests must never silently become none.
export async function cases(group: string, atLeast = 1): Promise<GoldenCase[]> {
  const f = await open();
  const g = f.get(group) as Group | null;
  const found = g ? g.keys().map((k) => caseOf(g.get(k) as Group, `${group}/${k}`)) : [];
  if (found.length < atLeast) throw new Error(`goldens: group "${group}" holds ${found.length} cases (expected at least ${atLeast}) in ${goldensPath}`);
  return found;
}

// A group that is itself one case, e.g. golden('convnet').
export async function golden(group: string): Promise<GoldenCase> {
  const f = await open();
  return caseOf(f.get(group) as Group, group);
}

export async function goldenStrings(path: string): Promise<string[]> {
  const f = await open();
  return (f.get(path) as Dataset).value as string[];
}
