// Combines the float64 partial sums that layers request (SumRequest) across all the shards of a
// step: each shard publishes its partials in its own place, the threads meet at the barrier, and
// every shard adds all shards' partials in shard order, so every shard ends with bit-identical
// totals however many threads ran the shards.

import { SimdnetError } from '../errors.js';
import type { KernelExports } from '../kernels/index.js';
import type { SumRequest } from '../layers/layer.js';
import type { Barrier } from './barrier.js';

export class ShardReducer {
  /** Set by the shard step, so that a timeout names the layer. */
  where = '';

  constructor(
    private readonly k: KernelExports, private readonly barrier: Barrier,
    private readonly sums: number[],     // per reduction: byte offset of [shard][2][width] float64
    private readonly widths: number[],
    private readonly firstShard: number, // the shards of this thread: firstShard + i for requests[i]
    private readonly shards: number,     // shards in the step
    private readonly timeoutMs: number,
  ) {}

  /** requests[i] comes from this thread's shard firstShard + i; all name the same reduction. */
  combine(requests: SumRequest[]): void {
    const { reduction, C } = requests[0];
    const width = this.widths[reduction];
    if (C > width) throw new SimdnetError(`simdnet: internal: reduction ${reduction} holds ${width} values, asked for ${C}`);
    const stride = 16 * width; // bytes per shard: two float64 vectors
    const base = this.sums[reduction];
    for (const [i, r] of requests.entries()) {
      const mine = base + (this.firstShard + i) * stride;
      this.k.copy(mine, r.a, 2 * C);
      this.k.copy(mine + 8 * width, r.b, 2 * C);
    }
    this.barrier.arrive(this.timeoutMs, this.where);
    for (const r of requests) {
      this.k.copy(r.a, base, 2 * C);
      this.k.copy(r.b, base + 8 * width, 2 * C);
      for (let s = 1; s < this.shards; s++) {
        this.k.add_to_f64(r.a, base + s * stride, C);
        this.k.add_to_f64(r.b, base + s * stride + 8 * width, C);
      }
    }
  }
}
