// Optimizer updates over a flat parameter vector p [n] with its gradient g [n].

// Adam in Keras's form (the bias corrections folded into lrT = lr * sqrt(1-beta2^t) / (1-beta1^t)):
// m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g²;  p -= lrT * m / (sqrt(v) + eps)
// The complements 1-beta come from the caller in double precision: 1 - f32(0.999) is off by 1e-5.
export function adam_update(
  p: usize, g: usize, m: usize, v: usize, n: i32, lrT: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32,
): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const lr = f32x4.splat(lrT), ep = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const step = f32x4.div(f32x4.mul(lr, mv), f32x4.add(f32x4.sqrt(vv), ep));
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const ms = beta1 * load<f32>(m + o) + oneMinusBeta1 * gs;
    const vs = beta2 * load<f32>(v + o) + oneMinusBeta2 * gs * gs;
    store<f32>(m + o, ms);
    store<f32>(v + o, vs);
    store<f32>(p + o, load<f32>(p + o) - lrT * ms / (Mathf.sqrt(vs) + eps));
  }
}

// SGD with momentum in Keras's form: vel = momentum*vel - lr*g; p += vel
// (nesterov: p += momentum*vel - lr*g). momentum = 0 gives plain SGD.
export function sgd_update(
  p: usize, g: usize, vel: usize, n: i32, lr: f32, momentum: f32, nesterov: bool,
): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const u = momentum * load<f32>(vel + o) - lr * gs;
    store<f32>(vel + o, u);
    store<f32>(p + o, load<f32>(p + o) + (nesterov ? momentum * u - lr * gs : u));
  }
}
