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

// Sum of the four lanes, in a fixed order so that results are reproducible.
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
