// How a batch is cut: into contiguous shards (the first ones one row larger when the batch does
// not divide), handed to threads as contiguous runs of whole shards; and which slice of the
// parameters each thread reduces and updates.

/** Contiguous shards of `rows` over `n`, the first rows % n one row larger: [start, rows] each. */
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

/** The shards of a batch of `rows`: at most one per row. */
export function shardsOf(rows: number, shards: number): [number, number][] {
  return shardRanges(rows, Math.min(shards, rows));
}

/** Threads taking part in a batch cut into `shards` shards, with `threads` available. */
export function threadsFor(shards: number, threads: number): number {
  return Math.min(shards, threads);
}

/** The shards thread t of n takes: [first, end). */
export function shardsOfThread(shards: number, t: number, n: number): [number, number] {
  const [start, count] = shardRanges(shards, n)[t];
  return [start, start + count];
}

/**
 * The range of the trainable parameters whose gradient reduction and update thread t does:
 * 16-float aligned, so that no two threads write one cache line.
 */
export function paramSlice(total: number, t: number, n: number): [number, number] {
  const per = Math.ceil(total / n / 16) * 16;
  return [Math.min(total, t * per), Math.min(total, (t + 1) * per)];
}
