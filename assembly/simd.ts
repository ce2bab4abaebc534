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
