// Softmax and softmax cross-entropy over rows of logits [N,K].

// probs [N,K] = softmax of each row of logits.
export function softmax_forward(logits: usize, probs: usize, N: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    const l = logits + ((<usize>n * K) << 2);
    const p = probs + ((<usize>n * K) << 2);
    let mx: f32 = -Infinity;
    for (let k = 0; k < K; k++) mx = max(mx, load<f32>(l + (<usize>k << 2)));
    let s: f64 = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(<f64>(load<f32>(l + (<usize>k << 2)) - mx));
      store<f32>(p + (<usize>k << 2), <f32>e);
      s += e;
    }
    const inv = <f32>(1.0 / s);
    for (let k = 0; k < K; k++) store<f32>(p + (<usize>k << 2), load<f32>(p + (<usize>k << 2)) * inv);
  }
}

// Softmax cross-entropy with targets labels [N,K] (one-hot or any distribution):
// returns Σ_n -Σ_k labels·log softmax(logits) times `invBatch`, and sets
// probs [N,K] = softmax(logits) and dlogits [N,K] = (probs - labels) * invBatch.
// invBatch is 1 / (the whole batch's size), which may be larger than N when the batch is split.
export function softmax_xent(
  logits: usize, labels: usize, N: i32, K: i32, invBatch: f32, probs: usize, dlogits: usize,
): f64 {
  let total: f64 = 0;
  for (let n = 0; n < N; n++) {
    const row = (<usize>n * K) << 2;
    const l = logits + row;
    let mx: f32 = -Infinity;
    for (let k = 0; k < K; k++) mx = max(mx, load<f32>(l + (<usize>k << 2)));
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += Math.exp(<f64>(load<f32>(l + (<usize>k << 2)) - mx));
    const logZ = Math.log(s) + <f64>mx;
    for (let k = 0; k < K; k++) {
      const o = row + (<usize>k << 2);
      const logp = <f64>load<f32>(logits + o) - logZ;
      const t = <f64>load<f32>(labels + o);
      if (t != 0) total -= t * logp;
      const p = <f32>Math.exp(logp);
      store<f32>(probs + o, p);
      store<f32>(dlogits + o, (p - <f32>t) * invBatch);
    }
  }
  return total * <f64>invBatch;
}

// dx [N,K] = y * (dy - Σ_k dy·y) per row, where y = softmax output (dx may alias dy).
export function softmax_backward(y: usize, dy: usize, dx: usize, N: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    const row = (<usize>n * K) << 2;
    let dot: f64 = 0;
    for (let k = 0; k < K; k++) {
      const o = row + (<usize>k << 2);
      dot += <f64>load<f32>(dy + o) * <f64>load<f32>(y + o);
    }
    const d = <f32>dot;
    for (let k = 0; k < K; k++) {
      const o = row + (<usize>k << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - d));
    }
  }
}
