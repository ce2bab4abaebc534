// Shared SIMD helpers. `madd` is a fused multiply-add where the build has relaxed SIMD,
// and a separate multiply and add elsewhere: the choice is made at compile time.

// a * b + c on four f32 lanes.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// The first `lanes` floats at p (all four when `full`), zeros in the other lanes.
@inline export function loadLanes(p: usize, full: bool, lanes: i32): v128 {
  if (full) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// Stores the first `lanes` lanes of v at p (all four when `full`).
@inline export function storeLanes(p: usize, v: v128, full: bool, lanes: i32): void {
  if (full) {
    v128.store(p, v);
  } else {
    store<f32>(p, f32x4.extract_lane(v, 0));
    if (lanes > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
    if (lanes > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  }
}
