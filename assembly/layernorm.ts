// Layer normalization of each row of x [M,N] over its own N values (Keras LayerNormalization):
// y = (x - mean) * invstd * gamma + beta, biased variance, invstd = 1 / sqrt(var + eps). A row is
// one sample (all of its axes normalized) or one position (the channels only). gamma and beta
// [N] are optional (0: no scale, no offset). Unlike batch norm, nothing crosses rows, so shards
// need no reduction.

// Σ of the N floats at p, in float64 (four float32 lanes per block of 64, then widened), so a
// 12,288-value image sums to float64 precision for the cost of float32 adds.
function rowSum(p: usize, N: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= N) {
    let acc = f32x4.splat(0);
    const end = min(N, i + 64) & ~3;
    for (; i < end; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  }
  for (; i < N; i++) total += <f64>load<f32>(p + (<usize>i << 2));
  return total;
}

// Σ (x - mu)² over the N floats at p, in float64 the same way.
function rowSquaredDeviations(p: usize, N: i32, mu: f32): f64 {
  const m = f32x4.splat(mu);
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= N) {
    let acc = f32x4.splat(0);
    const end = min(N, i + 64) & ~3;
    for (; i < end; i += 4) {
      const d = f32x4.sub(v128.load(p + (<usize>i << 2)), m);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  }
  for (; i < N; i++) {
    const d = load<f32>(p + (<usize>i << 2)) - mu;
    total += <f64>(d * d);
  }
  return total;
}

// y [M,N] = (x - mean) * invstd (* gamma [N] + beta [N]); mean, invstd [M] kept for backward.
export function layernorm_forward(
  x: usize, M: i32, N: i32, eps: f32, gamma: usize, beta: usize, y: usize, mean: usize, invstd: usize,
): void {
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * rowBytes, yr = y + <usize>m * rowBytes;
    const mu = <f32>(rowSum(xr, N) / <f64>N);
    const s = <f32>(1.0 / Math.sqrt(rowSquaredDeviations(xr, N, mu) / <f64>N + <f64>eps));
    store<f32>(mean + (<usize>m << 2), mu);
    store<f32>(invstd + (<usize>m << 2), s);
    const vm = f32x4.splat(mu), vs = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= N; i += 4) {
      const o = <usize>i << 2;
      let v = f32x4.mul(f32x4.sub(v128.load(xr + o), vm), vs);
      if (gamma) v = f32x4.mul(v, v128.load(gamma + o));
      if (beta) v = f32x4.add(v, v128.load(beta + o));
      v128.store(yr + o, v);
    }
    for (; i < N; i++) {
      const o = <usize>i << 2;
      let v = (load<f32>(xr + o) - mu) * s;
      if (gamma) v *= load<f32>(gamma + o);
      if (beta) v += load<f32>(beta + o);
      store<f32>(yr + o, v);
    }
  }
}

// With xhat = (x - mean) * invstd and g = dy * gamma (dy without gamma):
// dx [M,N] = invstd * (g - mean(g) - xhat * mean(g * xhat))  (0: not wanted)
// dgamma [N] = Σ_m dy * xhat, dbeta [N] = Σ_m dy over this call's rows  (0: the layer has none)
export function layernorm_backward(
  dy: usize, x: usize, mean: usize, invstd: usize, gamma: usize, M: i32, N: i32, dx: usize, dgamma: usize, dbeta: usize,
): void {
  const rowBytes = <usize>N << 2;
  if (dgamma) memory.fill(dgamma, 0, rowBytes);
  if (dbeta) memory.fill(dbeta, 0, rowBytes);
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * rowBytes, dyr = dy + <usize>m * rowBytes;
    const mu = load<f32>(mean + (<usize>m << 2)), s = load<f32>(invstd + (<usize>m << 2));
    let sumG: f64 = 0, sumGXhat: f64 = 0;
    for (let i = 0; i < N; i++) {
      const o = <usize>i << 2;
      const d = load<f32>(dyr + o);
      const xhat = (load<f32>(xr + o) - mu) * s;
      const g = gamma ? d * load<f32>(gamma + o) : d;
      sumG += <f64>g;
      sumGXhat += <f64>(g * xhat);
      if (dgamma) store<f32>(dgamma + o, load<f32>(dgamma + o) + d * xhat);
      if (dbeta) store<f32>(dbeta + o, load<f32>(dbeta + o) + d);
    }
    if (!dx) continue;
    const meanG = <f32>(sumG / <f64>N), meanGXhat = <f32>(sumGXhat / <f64>N);
    const dxr = dx + <usize>m * rowBytes;
    for (let i = 0; i < N; i++) {
      const o = <usize>i << 2;
      const xhat = (load<f32>(xr + o) - mu) * s;
      const g = gamma ? load<f32>(dyr + o) * load<f32>(gamma + o) : load<f32>(dyr + o);
      store<f32>(dxr + o, s * (g - meanG - xhat * meanGXhat));
    }
  }
}
