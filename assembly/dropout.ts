// Inverted dropout on a flat float32 array: y = x * mask, where mask[i] is 0 with probability
// `rate` and 1 / (1 - rate) otherwise, so the expected output equals the input and inference is
// the identity. Element i's draw is a hash of (seed, first + i): a sample's mask depends on its
// index in the batch, not on which worker's shard computes it.

// The murmur3 finalizer: a bijective mix of 32 bits.
@inline function fmix32(h: u32): u32 {
  h ^= h >>> 16; h *= 0x85ebca6b;
  h ^= h >>> 13; h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

// y [n] = x [n] * mask [n], mask drawn for elements first .. first + n of the batch.
export function dropout_forward(x: usize, y: usize, mask: usize, n: i32, rate: f32, seed: u32, first: u32): void {
  const keep: f32 = 1 / (1 - rate);
  // A draw below `threshold` (24-bit uniform) drops the element.
  const threshold = <u32>(<f64>rate * 16777216.0);
  for (let i = 0; i < n; i++) {
    const h = fmix32((first + <u32>i) * 0x9e3779b1 + seed) >>> 8;
    const m: f32 = h < threshold ? 0 : keep;
    const o = <usize>i << 2;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

// dx [n] = dy [n] * mask [n]
export function dropout_backward(dy: usize, mask: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), v128.load(mask + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(dy + o) * load<f32>(mask + o));
  }
}
