// Static memory planning: buffers with known lifetimes get byte offsets in one region so that
// two buffers alive at the same time never overlap. Largest first, each at the lowest offset
// free of every placed buffer whose lifetime meets its own (a greedy that packs CNN activations
// close to the peak of live bytes).

export interface Interval {
  bytes: number;
  first: number; // first step that uses the buffer
  last: number;  // last step that uses it (inclusive)
}

const ALIGN = 64;
const up = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function packIntervals(items: Interval[]): { offsets: number[]; total: number } {
  const offsets = new Array<number>(items.length).fill(-1);
  const order = items.map((_, i) => i).sort((a, b) => items[b].bytes - items[a].bytes || a - b);
  const placed: number[] = [];
  let total = 0;
  for (const i of order) {
    const it = items[i];
    const size = up(Math.max(it.bytes, 1));
    // Address ranges of placed buffers alive at the same time, by start.
    const busy = placed
      .filter((j) => items[j].first <= it.last && it.first <= items[j].last)
      .map((j) => [offsets[j], offsets[j] + up(Math.max(items[j].bytes, 1))] as const)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [s, e] of busy) {
      if (at + size <= s) break;
      at = Math.max(at, e);
    }
    offsets[i] = at;
    placed.push(i);
    total = Math.max(total, at + size);
  }
  return { offsets, total };
}
