// The SumReducer of a worker: it publishes its float64 partial sums in its own place of a shared
// slot, waits for the others at the barrier, then adds every worker's partials in worker order,
// so every worker ends with bit-identical totals whatever thread ran which shard.

import type { KernelExports } from '../kernels/index.js';
import type { SumReducer } from '../layers/layer.js';
import type { Barrier } from './barrier.js';

export class SharedReducer implements SumReducer {
  // Set by the executor's caller so a timeout can name the layer.
  where = '';

  constructor(
    private readonly k: KernelExports, private readonly barrier: Barrier,
    private readonly slotOffsets: number[], // byte offset of each slot: [worker][2][width] float64
    private readonly slotWidths: number[],
    private readonly shard: number, private readonly shards: number, private readonly timeoutMs: number,
  ) {}

  allReduce(slot: number, a: number, b: number, C: number): void {
    if (C > this.slotWidths[slot]) throw new Error(`simdnet: reducer slot ${slot} holds ${this.slotWidths[slot]} values, asked for ${C}`);
    const stride = 16 * this.slotWidths[slot]; // bytes per worker: two float64 vectors
    const base = this.slotOffsets[slot];
    const mine = base + this.shard * stride;
    this.k.copy(mine, a, 2 * C);
    this.k.copy(mine + 8 * this.slotWidths[slot], b, 2 * C);
    this.barrier.arrive(this.timeoutMs, this.where);
    this.k.copy(a, base, 2 * C);
    this.k.copy(b, base + 8 * this.slotWidths[slot], 2 * C);
    for (let w = 1; w < this.shards; w++) {
      this.k.add_to_f64(a, base + w * stride, C);
      this.k.add_to_f64(b, base + w * stride + 8 * this.slotWidths[slot], C);
    }
  }
}

// Contiguous shards of `rows` over `n` workers, the first rows % n one row larger.
export function shardRanges(rows: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(rows / n), extra = rows % n;
  let start = 0;
  for (let w = 0; w < n; w++) {
    const size = base + (w < extra ? 1 : 0);
    out.push([start, size]);
    start += size;
  }
  return out;
}
