// A convolution's inference epilogue: the layers between its output and the next layer that
// reads it, applied in one pass while the output is hot, instead of one pass each (batch norm
// with its moving statistics, a residual add, a clipped ReLU). Inference only: in training, batch
// norm needs the batch's statistics and every intermediate tensor is kept for backward.
//
// Batch norm is folded into a per-channel scale and shift of the convolution's raw output, not
// into its kernel: the weights stay as stored, and a step recomputes C scales instead of a copy
// of the kernel (94 MB for ResNet-50) each time the weights change.

// scale [C] = gamma / sqrt(var + eps);  shift [C] = beta + (bias - mean) · scale   (bias = 0: none)
export function bn_fold_coefficients(
  gamma: usize, beta: usize, movingMean: usize, movingVar: usize, eps: f32, bias: usize, C: i32,
  scale: usize, shift: usize,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    // Divided as bn_inference_forward divides, so a folded layer rounds as the unfolded one does.
    const s = load<f32>(gamma + o) / Mathf.sqrt(load<f32>(movingVar + o) + eps);
    const b = bias != 0 ? load<f32>(bias + o) : <f32>0;
    store<f32>(scale + o, s);
    store<f32>(shift + o, load<f32>(beta + o) + (b - load<f32>(movingMean + o)) * s);
  }
}

// y [M,C] = min(max(y · scale + shift (+ r), lo), hi) in place, rows ld floats apart in y and r
// (ld = C, or the full width when C channels are one thread's share); r = 0: no residual.
// lo = -Infinity, hi = +Infinity: no activation; 0 and +Infinity: ReLU; 0 and 6: ReLU6. A NaN
// passes through, as relu_forward lets it.
export function affine_epilogue(y: usize, M: i32, C: i32, ld: i32, scale: usize, shift: usize, r: usize, lo: f32, hi: f32): void {
  assert(ld >= C);
  if (r != 0) affineRows(y, M, C, ld, scale, shift, r, true, lo, hi);
  else affineRows(y, M, C, ld, scale, shift, 0, false, lo, hi);
}

@inline function affineRows(y: usize, M: i32, C: i32, ld: i32, scale: usize, shift: usize, r: usize, residual: bool, lo: f32, hi: f32): void {
  const l = f32x4.splat(lo), h = f32x4.splat(hi);
  const rowBytes = <usize>ld << 2;
  let yr = y, rr = r;
  for (let m = 0; m < M; m++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      let v = f32x4.add(f32x4.mul(v128.load(yr + o), v128.load(scale + o)), v128.load(shift + o));
      if (residual) v = f32x4.add(v, v128.load(rr + o));
      // pmax(v, l) = l when v < l, else v (a NaN v stays); pmin likewise.
      v128.store(yr + o, f32x4.pmin(f32x4.pmax(v, l), h));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(yr + o) * load<f32>(scale + o) + load<f32>(shift + o);
      if (residual) v += load<f32>(rr + o);
      store<f32>(yr + o, v < lo ? lo : hi < v ? hi : v);
    }
    yr += rowBytes;
    rr += rowBytes;
  }
}
