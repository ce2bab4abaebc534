// Element-wise and per-channel kernels on flat float32 arrays. "Rows" are the leading
// dimensions of an NHWC tensor flattened together, "channels" its last dimension.

// dst[i] += src[i], i < n
export function add_to(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// y[i] = a[i] + b[i], i < n
export function add(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

// y[i] = x[i] < 0 ? 0 : x[i], i < n   (a NaN passes through, as in max(x, 0))
// pmax is one x86 max instruction; IEEE max (NaN and signed-zero rules) takes several and made
// this loop 2.5 times slower than a copy of the same bytes.
export function relu_forward(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.pmax(v128.load(x + o), z));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v < 0 ? 0 : v);
  }
}

// dx[i] = y[i] > 0 ? dy[i] : 0, i < n   (y: the ReLU output, positive exactly where x was)
export function relu_backward(y: usize, dy: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), z)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// y [M,C] += b [C]
export function bias_add(y: usize, b: usize, M: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  let r = y;
  for (let m = 0; m < M; m++) {
    add_to(r, b, C);
    r += rowBytes;
  }
}

// out [C] (+)= sum over m of x [M,C]
export function col_sum(x: usize, M: i32, C: i32, out: usize, accumulate: bool): void {
  if (!accumulate) memory.fill(out, 0, <usize>C << 2);
  const rowBytes = <usize>C << 2;
  let r = x;
  for (let m = 0; m < M; m++) {
    add_to(out, r, C);
    r += rowBytes;
  }
}

// dst [n] = 0
export function zero(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}

// dst [n] = src [n]
export function copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

// y [n] = x [n] / 255 for bytes x: pixels to [0, 1]. Float32 division rounds each of the 256
// values as JavaScript's float64 v / 255 stored to float32 does (checked for all 256), so a batch
// converted here is the one a JavaScript loop would make.
export function bytes_to_unit_floats(x: usize, y: usize, n: i32): void {
  const d = f32x4.splat(255);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const b = v128.load(x + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(b), hi = i16x8.extend_high_i8x16_u(b);
    const o = y + (<usize>i << 2);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d), 16);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d), 32);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d), 48);
  }
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>load<u8>(x + <usize>i) / 255);
}

// The index of the first NaN or infinity in x [n], or -1 (checking inputs: a JavaScript loop
// over a batch of images costs more than the ConvNet's step on them).
export function first_non_finite(x: usize, n: i32): i32 {
  const exponent = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = i32x4.eq(v128.and(v128.load(x + o), exponent), exponent);
    const b = i32x4.eq(v128.and(v128.load(x + o, 16), exponent), exponent);
    const c = i32x4.eq(v128.and(v128.load(x + o, 32), exponent), exponent);
    const d = i32x4.eq(v128.and(v128.load(x + o, 48), exponent), exponent);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break;
  }
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}

// dst[i] += src[i] over n float64 values (combining per-channel sums across workers).
export function add_to_f64(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, f64x2.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(dst + o, load<f64>(dst + o) + load<f64>(src + o));
  }
}

// x [n] *= s, in place (average pooling's division).
export function scale_in_place(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * s);
  }
}

// Keras's ReLU with its options, i < n:
// y = x >= maxValue ? maxValue : x > threshold ? x : slope · (x - threshold)
// (maxValue = +Infinity: no ceiling). ReLU6 is maxValue 6.
export function relu_clipped_forward(x: usize, y: usize, n: i32, maxValue: f32, slope: f32, threshold: f32): void {
  const top = f32x4.splat(maxValue), t = f32x4.splat(threshold), s = f32x4.splat(slope);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const below = f32x4.mul(s, f32x4.sub(v, t));
    const r = v128.bitselect(v, below, f32x4.gt(v, t));
    v128.store(y + o, v128.bitselect(top, r, f32x4.ge(v, top)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v >= maxValue ? maxValue : v > threshold ? v : slope * (v - threshold));
  }
}

// dx[i] = dy[i] · ReLU'(x[i]): 0 at or above maxValue, 1 between threshold and it, slope below,
// i < n. At the kinks it takes the side PyTorch takes (relu6's gradient is 0 at 0 and at 6).
export function relu_clipped_backward(x: usize, dy: usize, dx: usize, n: i32, maxValue: f32, slope: f32, threshold: f32): void {
  const top = f32x4.splat(maxValue), t = f32x4.splat(threshold), s = f32x4.splat(slope), z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o), d = v128.load(dy + o);
    const r = v128.bitselect(d, f32x4.mul(d, s), f32x4.gt(v, t));
    v128.store(dx + o, v128.bitselect(z, r, f32x4.ge(v, top)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o), d = load<f32>(dy + o);
    store<f32>(dx + o, v >= maxValue ? 0 : v > threshold ? d : d * slope);
  }
}

// y[i] = x[i] · scale + offset, i < n   (Keras's Rescaling)
export function scale_shift(x: usize, y: usize, n: i32, scale: f32, offset: f32): void {
  const s = f32x4.splat(scale), b = f32x4.splat(offset);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(v128.load(x + o), s), b));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * scale + offset);
  }
}

// Copies `count` channels of every row: dst [rows, dstC] at channel dstAt <- src [rows, srcC] at
// channel srcAt. Concatenation one way, its gradient's split the other.
export function copy_channels(src: usize, srcC: i32, srcAt: i32, dst: usize, dstC: i32, dstAt: i32, rows: i32, count: i32): void {
  const bytes = <usize>count << 2;
  let s = src + (<usize>srcAt << 2), d = dst + (<usize>dstAt << 2);
  for (let r = 0; r < rows; r++) {
    memory.copy(d, s, bytes);
    s += <usize>srcC << 2;
    d += <usize>dstC << 2;
  }
}
