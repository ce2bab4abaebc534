// Batch normalization over the channels of x [M,C] (M = N*H*W rows), Keras semantics:
// biased batch variance, y = gamma * (x - mean) / sqrt(var + eps) + beta.
//
// Training is split into steps so that a parallel trainer can combine the per-channel sums of
// every worker's rows before normalizing:
//   bn_forward_sums -> (combine) -> bn_forward_stats -> bn_forward_normalize
//   bn_backward_sums -> (combine) -> bn_backward_dx, bn_param_grads
// Sums are accumulated in float64, so their combination order costs no visible precision.

// acc[c .. c+4) += the four lanes of v, in float64.
@inline function accumulateRowF64(acc: usize, v: v128, c: i32): void {
  const o = <usize>c << 3;
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  v128.store(acc + o, f64x2.add(v128.load(acc + o), lo));
  v128.store(acc + o, f64x2.add(v128.load(acc + o, 16), hi), 16);
}

// sum [C] = Σ_m x[m,c];  sumsq [C] = Σ_m x[m,c]²   (float64 outputs)
export function bn_forward_sums(x: usize, M: i32, C: i32, sum: usize, sumsq: usize): void {
  memory.fill(sum, 0, <usize>C << 3);
  memory.fill(sumsq, 0, <usize>C << 3);
  let r = x;
  const rowBytes = <usize>C << 2;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const v = v128.load(r + (<usize>c << 2));
      accumulateRowF64(sum, v, c);
      accumulateRowF64(sumsq, f32x4.mul(v, v), c);
    }
    for (; c < C; c++) {
      const v = <f64>load<f32>(r + (<usize>c << 2));
      const o = <usize>c << 3;
      store<f64>(sum + o, load<f64>(sum + o) + v);
      store<f64>(sumsq + o, load<f64>(sumsq + o) + v * v);
    }
    r += rowBytes;
  }
}

// mean, var (biased), invstd [C] from the sums over `count` rows.
export function bn_forward_stats(
  sum: usize, sumsq: usize, count: i32, eps: f32, C: i32, mean: usize, variance: usize, invstd: usize,
): void {
  const inv = 1.0 / <f64>count;
  for (let c = 0; c < C; c++) {
    const mu = load<f64>(sum + (<usize>c << 3)) * inv;
    const v = max<f64>(load<f64>(sumsq + (<usize>c << 3)) * inv - mu * mu, 0);
    store<f32>(mean + (<usize>c << 2), <f32>mu);
    store<f32>(variance + (<usize>c << 2), <f32>v);
    store<f32>(invstd + (<usize>c << 2), <f32>(1.0 / Math.sqrt(v + <f64>eps)));
  }
}

// y [M,C] = (x - mean) * invstd * gamma + beta
export function bn_forward_normalize(
  x: usize, M: i32, C: i32, mean: usize, invstd: usize, gamma: usize, beta: usize, y: usize,
): void {
  const rowBytes = <usize>C << 2;
  let xr = x;
  let yr = y;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const k = f32x4.mul(v128.load(invstd + o), v128.load(gamma + o));
      const v = f32x4.add(f32x4.mul(f32x4.sub(v128.load(xr + o), v128.load(mean + o)), k), v128.load(beta + o));
      v128.store(yr + o, v);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const k = load<f32>(invstd + o) * load<f32>(gamma + o);
      store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(mean + o)) * k + load<f32>(beta + o));
    }
    xr += rowBytes;
    yr += rowBytes;
  }
}

// movingMean = movingMean * momentum + mean * (1 - momentum); likewise movingVar with var.
export function bn_update_moving(
  mean: usize, variance: usize, movingMean: usize, movingVar: usize, C: i32, momentum: f32,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(movingMean + o, load<f32>(movingMean + o) * momentum + load<f32>(mean + o) * (1 - momentum));
    store<f32>(movingVar + o, load<f32>(movingVar + o) * momentum + load<f32>(variance + o) * (1 - momentum));
  }
}

// y [M,C] = (x - movingMean) · k + beta, k [C] = gamma / sqrt(movingVar + eps), written to `coef`
// first. Sub, mul and add stay separate operations (no fused multiply-add), so every value is the
// one a scalar loop gives, on every build.
export function bn_inference_forward(
  x: usize, M: i32, C: i32, gamma: usize, beta: usize, movingMean: usize, movingVar: usize,
  eps: f32, y: usize, coef: usize,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(coef + o, load<f32>(gamma + o) / Mathf.sqrt(load<f32>(movingVar + o) + eps));
  }
  const rowBytes = <usize>C << 2;
  let xr = x;
  let yr = y;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const centred = f32x4.sub(v128.load(xr + o), v128.load(movingMean + o));
      v128.store(yr + o, f32x4.add(f32x4.mul(centred, v128.load(coef + o)), v128.load(beta + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(movingMean + o)) * load<f32>(coef + o) + load<f32>(beta + o));
    }
    xr += rowBytes;
    yr += rowBytes;
  }
}

// sumDy [C] = Σ_m dy;  sumDyXhat [C] = Σ_m dy * (x - mean) * invstd   (float64 outputs)
export function bn_backward_sums(
  dy: usize, x: usize, mean: usize, invstd: usize, M: i32, C: i32, sumDy: usize, sumDyXhat: usize,
): void {
  memory.fill(sumDy, 0, <usize>C << 3);
  memory.fill(sumDyXhat, 0, <usize>C << 3);
  const rowBytes = <usize>C << 2;
  let dr = dy;
  let xr = x;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const g = v128.load(dr + o);
      const xhat = f32x4.mul(f32x4.sub(v128.load(xr + o), v128.load(mean + o)), v128.load(invstd + o));
      accumulateRowF64(sumDy, g, c);
      accumulateRowF64(sumDyXhat, f32x4.mul(g, xhat), c);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const g = <f64>load<f32>(dr + o);
      const xhat = <f64>((load<f32>(xr + o) - load<f32>(mean + o)) * load<f32>(invstd + o));
      const o8 = <usize>c << 3;
      store<f64>(sumDy + o8, load<f64>(sumDy + o8) + g);
      store<f64>(sumDyXhat + o8, load<f64>(sumDyXhat + o8) + g * xhat);
    }
    dr += rowBytes;
    xr += rowBytes;
  }
}

// dx [M,C] = gamma * invstd * (dy - sumDy / count - xhat * sumDyXhat / count),
// with the sums over all `count` rows of the batch (M is this call's share of them).
// coef: scratch of 3*C floats for the per-channel form dx = k * dy + u * x + w.
export function bn_backward_dx(
  dy: usize, x: usize, mean: usize, invstd: usize, gamma: usize, sumDy: usize, sumDyXhat: usize,
  count: i32, M: i32, C: i32, coef: usize, dx: usize,
): void {
  const inv = 1.0 / <f64>count;
  const cBytes = <usize>C << 2;
  const kv = coef, uv = coef + cBytes, wv = coef + 2 * cBytes;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const a = load<f64>(sumDy + (<usize>c << 3)) * inv;
    const b = load<f64>(sumDyXhat + (<usize>c << 3)) * inv;
    const is = <f64>load<f32>(invstd + o);
    const k = <f64>load<f32>(gamma + o) * is;
    const u = -k * b * is;
    store<f32>(kv + o, <f32>k);
    store<f32>(uv + o, <f32>u);
    store<f32>(wv + o, <f32>(-u * <f64>load<f32>(mean + o) - k * a));
  }
  let p = <usize>0;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const v = f32x4.add(
        f32x4.add(f32x4.mul(v128.load(kv + o), v128.load(dy + p + o)), f32x4.mul(v128.load(uv + o), v128.load(x + p + o))),
        v128.load(wv + o));
      v128.store(dx + p + o, v);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(dx + p + o, load<f32>(kv + o) * load<f32>(dy + p + o) + load<f32>(uv + o) * load<f32>(x + p + o) + load<f32>(wv + o));
    }
    p += cBytes;
  }
}

// dgamma [C] (+)= sumDyXhat; dbeta [C] (+)= sumDy   (from float64 sums to float32 gradients)
export function bn_param_grads(
  sumDy: usize, sumDyXhat: usize, C: i32, dgamma: usize, dbeta: usize, accumulate: bool,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const g = <f32>load<f64>(sumDyXhat + (<usize>c << 3));
    const b = <f32>load<f64>(sumDy + (<usize>c << 3));
    store<f32>(dgamma + o, accumulate ? load<f32>(dgamma + o) + g : g);
    store<f32>(dbeta + o, accumulate ? load<f32>(dbeta + o) + b : b);
  }
}
