// Optimizer updates over a flat parameter vector p [n] with its gradient g [n]. Each reads the
// old values and writes the new ones to separate outputs, which may be the inputs themselves:
// the trainer writes a chunk's new values to a staging area first, so that a thread that dies
// mid-chunk leaves the model as it was (src/engine/shard-step.ts).

// Adam in Keras's form (the bias corrections folded into lrT = lr * sqrt(1-beta2^t) / (1-beta1^t)),
// with AdamW's decoupled weight decay as keep = 1 - lr*weightDecay (1: plain Adam):
// m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g²;  p = p*keep - lrT * m / (sqrt(v) + eps)
// The complements 1-beta come from the caller in double precision: 1 - f32(0.999) is off by 1e-5.
export function adam_update(
  p: usize, g: usize, m: usize, v: usize, pOut: usize, mOut: usize, vOut: usize, n: i32, lrT: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, keep: f32,
): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const lr = f32x4.splat(lrT), ep = f32x4.splat(eps), kp = f32x4.splat(keep);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    const step = f32x4.div(f32x4.mul(lr, mv), f32x4.add(f32x4.sqrt(vv), ep));
    v128.store(pOut + o, f32x4.sub(f32x4.mul(v128.load(p + o), kp), step));
    v128.store(mOut + o, mv);
    v128.store(vOut + o, vv);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const ms = beta1 * load<f32>(m + o) + oneMinusBeta1 * gs;
    const vs = beta2 * load<f32>(v + o) + oneMinusBeta2 * gs * gs;
    store<f32>(pOut + o, load<f32>(p + o) * keep - lrT * ms / (Mathf.sqrt(vs) + eps));
    store<f32>(mOut + o, ms);
    store<f32>(vOut + o, vs);
  }
}

// SGD with momentum in Keras's form: vel = momentum*vel - lr*g; p += vel
// (nesterov: p += momentum*vel - lr*g). momentum = 0 gives plain SGD.
export function sgd_update(
  p: usize, g: usize, vel: usize, pOut: usize, velOut: usize, n: i32, lr: f32, momentum: f32, nesterov: bool,
): void {
  const mo = f32x4.splat(momentum), r = f32x4.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const step = f32x4.mul(r, v128.load(g + o));
    const u = f32x4.sub(f32x4.mul(mo, v128.load(vel + o)), step);
    v128.store(pOut + o, f32x4.add(v128.load(p + o), nesterov ? f32x4.sub(f32x4.mul(mo, u), step) : u));
    v128.store(velOut + o, u);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const u = momentum * load<f32>(vel + o) - lr * gs;
    store<f32>(pOut + o, load<f32>(p + o) + (nesterov ? momentum * u - lr * gs : u));
    store<f32>(velOut + o, u);
  }
}
