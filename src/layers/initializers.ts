// Weight initializers. Every random value is a pure function of (seed, weight name, index), so a
// model's initial weights do not depend on the order in which its layers are built, and any
// implementation can rebuild them (the scheme of the goldens' portable initializer).

import { ArgumentError, describe } from '../errors.js';

export type InitializerName = 'glorotUniform' | 'zeros' | 'ones';

/** Makes a weight's initial values from its name and shape (Keras's initializers). */
export interface Initializer {
  readonly className: string;
  /** Values for a weight of `shape`, whose Keras-style full name is `name` (e.g. "conv1/kernel"). */
  init(name: string, shape: number[]): Float32Array;
  /** Keras's initializer config, for model files. */
  getConfig(): Record<string, unknown>;
}

/** FNV-1a over the UTF-8 bytes of s. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The murmur3 finalizer: a bijective mix of 32 bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** n values uniform in [lo, hi), determined by `key` and the index alone. */
export function hashUniform(key: string, n: number, lo: number, hi: number): Float32Array {
  const seed = fnv1a32(key);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = fmix32((Math.imul(i, 0x9e3779b1) + seed) >>> 0);
    out[i] = lo + (hi - lo) * ((u + 0.5) / 4294967296);
  }
  return out;
}

/** Fan-in and fan-out as Keras computes them: dense (in, out); conv (kh, kw, cin, cout) -> kh*kw*cin, kh*kw*cout. */
export function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)), Keras's default for kernels; values are a hash of (seed, weight name, index). */
export class GlorotUniform implements Initializer {
  readonly className = 'GlorotUniform';
  constructor(readonly seed = 0) {}
  init(name: string, shape: number[]): Float32Array {
    const [fanIn, fanOut] = fans(shape);
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    // Seed 0 gives exactly the goldens' portable initializer.
    return hashUniform(this.seed === 0 ? name : `${name}#${this.seed}`, size(shape), -limit, limit);
  }
  /** Keras's config: the seed. */
  getConfig() { return { seed: this.seed }; }
}

export class Constant implements Initializer {
  constructor(readonly value: number, readonly className = 'Constant') {}
  init(_name: string, shape: number[]): Float32Array {
    return new Float32Array(size(shape)).fill(this.value);
  }
  getConfig() { return this.className === 'Constant' ? { value: this.value } : {}; }
}

/** The initializers by their Keras names: `initializers.glorotUniform({ seed: 1 })`, `zeros()`, `ones()`, `constant({ value })`. */
export const initializers = {
  /** Glorot uniform. Default seed 0 (the goldens' portable initializer). */
  glorotUniform: (args: { seed?: number } = {}) => new GlorotUniform(args.seed ?? 0),
  /** All zeros (Keras's default for biases). */
  zeros: () => new Constant(0, 'Zeros'),
  /** All ones (batch norm's gamma and moving variance). */
  ones: () => new Constant(1, 'Ones'),
  /** Every value `value`. */
  constant: (args: { value: number }) => new Constant(args.value),
};

/** An initializer as it is serialized in a layer's config. */
export interface InitializerConfig { className: string; config: Record<string, unknown> }

/** What a layer option accepts: a name, an initializer, or its serialized config. */
export type InitializerSpec = InitializerName | Initializer | InitializerConfig;

export function serializeInitializer(i: Initializer): InitializerConfig {
  return { className: i.className, config: i.getConfig() };
}

export function getInitializer(spec: InitializerSpec | undefined, fallback: Initializer): Initializer {
  if (spec === undefined || spec === null) return fallback;
  if (typeof spec === 'string') {
    switch (spec) {
      case 'glorotUniform': return initializers.glorotUniform();
      case 'zeros': return initializers.zeros();
      case 'ones': return initializers.ones();
      default: throw new ArgumentError(`unknown initializer ${describe(spec)} (expected glorotUniform, zeros or ones)`);
    }
  }
  if (typeof (spec as Initializer).init === 'function') return spec as Initializer;
  return initializerFromConfig(spec as InitializerConfig);
}

export function initializerFromConfig(cfg: InitializerConfig): Initializer {
  if (!cfg || typeof cfg !== 'object' || typeof cfg.className !== 'string') {
    throw new ArgumentError(`an initializer must be a name, an initializer or {className, config}, got ${describe(cfg)}`);
  }
  const c = cfg.config ?? {};
  const finite = (v: unknown, what: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`initializer ${cfg.className}: ${what} must be a finite number, got ${describe(v)}`);
    return v;
  };
  switch (cfg.className) {
    case 'GlorotUniform': return new GlorotUniform(c.seed === undefined || c.seed === null ? 0 : finite(c.seed, 'seed'));
    case 'Zeros': return initializers.zeros();
    case 'Ones': return initializers.ones();
    case 'Constant': return new Constant(finite(c.value, 'value'));
    default: throw new ArgumentError(`unknown initializer class ${describe(cfg.className)} (expected GlorotUniform, Zeros, Ones or Constant)`);
  }
}
