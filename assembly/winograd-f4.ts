// Winograd F(4x4, 3x3) transforms (Lavin and Gray's, interpolation points 0, ±1, ±2, ∞): 6x6
// input tiles and 36 planes, so a 4x4 output tile costs 36 multiplies per (c, f) instead of
// direct convolution's 144 (F(2x2, 3x3): 16 for 36). The drivers and GEMMs are winograd.ts's;
// these are the five transforms it calls with tile 4:
//
//   U = G g Gᵀ  (6x3 . 3x3 . 3x6)    V = Bᵀ d B  (6x6)    y = Aᵀ M A  (4x6 . 6x6 . 6x4)
//   and the adjoints M = A dy Aᵀ (output side) and dw = Gᵀ dU G (kernel side).
//
// Each 2-D transform is two 1-D passes (down the columns, then along the rows) through vectors
// in `buf`, 2 KiB of the caller's scratch: 36 values per tile do not fit in registers, and the
// kernels keep no memory of their own (the memory is shared by every worker).
//
// G has thirds and twenty-fourths, so these transforms round more than F(2x2)'s (measured in
// docs/numerics.md).

import { loadLanes, madd, storeLanes } from "./simd";

export const WINOGRAD4_BUFFER_BYTES = 2048;

const VEC: usize = 16;     // bytes of one vector
const ROW6: usize = 6 * VEC; // one row of a 6-wide tile of vectors

// --- 1-D transforms: vectors at src + k*ss in, vectors at dst + k*ds out ---

// (d0..d5) -> Bᵀ d, with Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
// 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
@inline function inputPass(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = v128.load(src), d1 = v128.load(src + ss), d2 = v128.load(src + 2 * ss);
  const d3 = v128.load(src + 3 * ss), d4 = v128.load(src + 4 * ss), d5 = v128.load(src + 5 * ss);
  const four = f32x4.splat(4), minusFour = f32x4.splat(-4), minusFive = f32x4.splat(-5), two = f32x4.splat(2);
  const a = madd(minusFour, d2, d4), b = madd(minusFour, d1, d3);
  const c = f32x4.sub(d4, d2), e = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst, madd(four, d0, madd(minusFive, d2, d4)));
  v128.store(dst + ds, f32x4.add(a, b));
  v128.store(dst + 2 * ds, f32x4.sub(a, b));
  v128.store(dst + 3 * ds, f32x4.add(c, e));
  v128.store(dst + 4 * ds, f32x4.sub(c, e));
  v128.store(dst + 5 * ds, madd(four, d1, madd(minusFive, d3, d5)));
}

// (g0, g1, g2) -> G g, with G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
// 1/24 -1/12 1/6; 0 0 1].
@inline function kernelPass(src: usize, ss: usize, dst: usize, ds: usize): void {
  const g0 = v128.load(src), g1 = v128.load(src + ss), g2 = v128.load(src + 2 * ss);
  const s = f32x4.add(g0, g2), minusSixth = f32x4.splat(-1.0 / 6);
  const p = madd(f32x4.splat(1.0 / 24), g0, f32x4.mul(f32x4.splat(1.0 / 6), g2));
  const q = f32x4.mul(f32x4.splat(1.0 / 12), g1);
  v128.store(dst, f32x4.mul(f32x4.splat(0.25), g0));
  v128.store(dst + ds, f32x4.mul(minusSixth, f32x4.add(s, g1)));
  v128.store(dst + 2 * ds, f32x4.mul(minusSixth, f32x4.sub(s, g1)));
  v128.store(dst + 3 * ds, f32x4.add(p, q));
  v128.store(dst + 4 * ds, f32x4.sub(p, q));
  v128.store(dst + 5 * ds, g2);
}

// (m0..m5) -> Aᵀ m, with Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
@inline function outputPass(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = v128.load(src), m1 = v128.load(src + ss), m2 = v128.load(src + 2 * ss);
  const m3 = v128.load(src + 3 * ss), m4 = v128.load(src + 4 * ss), m5 = v128.load(src + 5 * ss);
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, a), c));
  v128.store(dst + ds, madd(f32x4.splat(2), d, b));
  v128.store(dst + 2 * ds, madd(f32x4.splat(4), c, a));
  v128.store(dst + 3 * ds, f32x4.add(madd(f32x4.splat(8), d, b), m5));
}

// (y0..y3) -> A y: the adjoint of outputPass.
@inline function outputAdjointPass(src: usize, ss: usize, dst: usize, ds: usize): void {
  const y0 = v128.load(src), y1 = v128.load(src + ss), y2 = v128.load(src + 2 * ss), y3 = v128.load(src + 3 * ss);
  const e = f32x4.add(y0, y2), o = f32x4.add(y1, y3);
  const e2 = madd(f32x4.splat(4), y2, y0), o2 = madd(f32x4.splat(8), y3, f32x4.mul(f32x4.splat(2), y1));
  v128.store(dst, y0);
  v128.store(dst + ds, f32x4.add(e, o));
  v128.store(dst + 2 * ds, f32x4.sub(e, o));
  v128.store(dst + 3 * ds, f32x4.add(e2, o2));
  v128.store(dst + 4 * ds, f32x4.sub(e2, o2));
  v128.store(dst + 5 * ds, y3);
}

// (u0..u5) -> Gᵀ u: the adjoint of kernelPass.
@inline function kernelAdjointPass(src: usize, ss: usize, dst: usize, ds: usize): void {
  const u0 = v128.load(src), u1 = v128.load(src + ss), u2 = v128.load(src + 2 * ss);
  const u3 = v128.load(src + 3 * ss), u4 = v128.load(src + 4 * ss), u5 = v128.load(src + 5 * ss);
  const a = f32x4.add(u1, u2), b = f32x4.sub(u2, u1), c = f32x4.add(u3, u4), d = f32x4.sub(u3, u4);
  const sixth = f32x4.splat(1.0 / 6);
  v128.store(dst, madd(f32x4.splat(0.25), u0, madd(f32x4.splat(1.0 / 24), c, f32x4.mul(f32x4.splat(-1.0 / 6), a))));
  v128.store(dst + ds, madd(sixth, b, f32x4.mul(f32x4.splat(1.0 / 12), d)));
  v128.store(dst + 2 * ds, madd(sixth, f32x4.sub(c, a), u5));
}

// --- 2-D transforms over whole tensors ---

// u [36, C, F] = G g Gᵀ for every (c, f) of w [3,3,C,F]; with `rotate`, of w rotated by 180
// degrees (the backward-to-input kernel, read by the GEMM with c and f swapped).
export function winograd4x4_kernel_transform(w: usize, C: i32, F: i32, rotate: bool, u: usize, buf: usize): void {
  const g = buf, t = buf + 9 * VEC, out = t + 18 * VEC;
  const plane = (<usize>C * F) << 2;
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f += 4) {
      const lanes = min(4, F - f), full = lanes == 4;
      const src = w + ((<usize>c * F + f) << 2);
      for (let k = 0; k < 9; k++) {
        const at = rotate ? 8 - k : k;
        v128.store(g + <usize>k * VEC, loadLanes(src + <usize>at * plane, full, lanes));
      }
      // t = G g (6x3), then out = t Gᵀ (6x6).
      for (let j = 0; j < 3; j++) kernelPass(g + <usize>j * VEC, 3 * VEC, t + <usize>j * VEC, 3 * VEC);
      for (let i = 0; i < 6; i++) kernelPass(t + <usize>i * 3 * VEC, VEC, out + <usize>i * ROW6, VEC);
      for (let xi = 0; xi < 36; xi++) storeLanes(u + <usize>xi * plane + ((<usize>c * F + f) << 2), v128.load(out + <usize>xi * VEC), full, lanes);
    }
  }
}

// v [36, T, C] = Bᵀ d B for every 6x6 tile d of x [N,H,W,C] whose top-left input cell is
// (4*ty - padT, 4*tx - padL); cells outside x read as zero.
export function winograd4x4_input_transform(
  x: usize, N: i32, H: i32, W: i32, C: i32, padT: i32, padL: i32, tilesH: i32, tilesW: i32, v: usize, buf: usize,
): void {
  const d = buf, t = buf + 36 * VEC, out = t + 36 * VEC;
  const T = N * tilesH * tilesW;
  const plane = (<usize>T * C) << 2;
  const rowBytes = (<usize>W * C) << 2, colBytes = <usize>C << 2;
  const zero = f32x4.splat(0);
  let tile = 0;
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * H * W * C) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const y0 = ty * 4 - padT;
      for (let tx = 0; tx < tilesW; tx++, tile++) {
        const x0 = tx * 4 - padL;
        const inside = y0 >= 0 && y0 + 6 <= H && x0 >= 0 && x0 + 6 <= W;
        const dst = v + ((<usize>tile * C) << 2);
        for (let c = 0; c < C; c += 4) {
          const lanes = min(4, C - c), full = lanes == 4;
          // The tile's first pass reads x where the whole tile is inside it, else a zero-filled copy.
          let src = xn + ((<isize>(y0 * W + x0) * C + c) << 2), ss = rowBytes, cs = colBytes;
          if (!inside || !full) {
            for (let r = 0; r < 6; r++) {
              for (let s = 0; s < 6; s++) {
                const yy = y0 + r, xx = x0 + s;
                const ok = yy >= 0 && yy < H && xx >= 0 && xx < W;
                v128.store(d + <usize>(r * 6 + s) * VEC, ok ? loadLanes(src + <usize>r * rowBytes + <usize>s * colBytes, full, lanes) : zero);
              }
            }
            src = d; ss = ROW6; cs = VEC;
          }
          for (let s = 0; s < 6; s++) inputPass(src + <usize>s * cs, ss, t + <usize>s * VEC, ROW6);
          const at = dst + (<usize>c << 2);
          if (full) {
            for (let i = 0; i < 6; i++) inputPass(t + <usize>i * ROW6, VEC, at + <usize>i * 6 * plane, plane);
          } else {
            for (let i = 0; i < 6; i++) inputPass(t + <usize>i * ROW6, VEC, out + <usize>i * ROW6, VEC);
            for (let xi = 0; xi < 36; xi++) storeLanes(at + <usize>xi * plane, v128.load(out + <usize>xi * VEC), false, lanes);
          }
        }
      }
    }
  }
}

// y [N,OH,OW,F] = Aᵀ m A (+ b [F]; b = 0: no bias) for every tile of m [36, T, F]; the cells of a
// tile past the output's edge are dropped. (Lanes past F in a partial group read whatever
// follows in m: computed, never stored.)
export function winograd4x4_output_transform(
  m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize, buf: usize,
): void {
  const t = buf, out = buf + 24 * VEC;
  const T = N * tilesH * tilesW;
  const plane = (<usize>T * F) << 2;
  const rowBytes = (<usize>OW * F) << 2, colBytes = <usize>F << 2;
  const zero = f32x4.splat(0);
  let tile = 0;
  for (let n = 0; n < N; n++) {
    const yn = y + ((<usize>n * OH * OW * F) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const oy = ty * 4, rows = min(4, OH - oy);
      for (let tx = 0; tx < tilesW; tx++, tile++) {
        const ox = tx * 4, cols = min(4, OW - ox);
        const src = m + ((<usize>tile * F) << 2);
        const dst = yn + ((<usize>(oy * OW + ox) * F) << 2);
        for (let f = 0; f < F; f += 4) {
          const lanes = min(4, F - f), full = lanes == 4;
          const bias = b != 0 ? loadLanes(b + (<usize>f << 2), full, lanes) : zero;
          const at = src + (<usize>f << 2);
          // t = Aᵀ m (4x6), then out = t A (4x4).
          for (let s = 0; s < 6; s++) outputPass(at + <usize>s * plane, 6 * plane, t + <usize>s * VEC, ROW6);
          for (let r = 0; r < rows; r++) outputPass(t + <usize>r * ROW6, VEC, out + <usize>r * 4 * VEC, VEC);
          for (let r = 0; r < rows; r++) {
            for (let s = 0; s < cols; s++) {
              storeLanes(dst + <usize>r * rowBytes + <usize>s * colBytes + (<usize>f << 2),
                f32x4.add(v128.load(out + <usize>(r * 4 + s) * VEC), bias), full, lanes);
            }
          }
        }
      }
    }
  }
}

// m [36, T, F] = A dy Aᵀ for every 4x4 tile of dy [N,OH,OW,F] (cells past the edge read as
// zero): the adjoint of winograd4x4_output_transform.
export function winograd4x4_output_transform_adjoint(
  dy: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, m: usize, buf: usize,
): void {
  const d = buf, t = buf + 16 * VEC, out = t + 24 * VEC;
  const T = N * tilesH * tilesW;
  const plane = (<usize>T * F) << 2;
  const rowBytes = (<usize>OW * F) << 2, colBytes = <usize>F << 2;
  const zero = f32x4.splat(0);
  let tile = 0;
  for (let n = 0; n < N; n++) {
    const yn = dy + ((<usize>n * OH * OW * F) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const oy = ty * 4, rows = min(4, OH - oy);
      for (let tx = 0; tx < tilesW; tx++, tile++) {
        const ox = tx * 4, cols = min(4, OW - ox);
        const src = yn + ((<usize>(oy * OW + ox) * F) << 2);
        const dst = m + ((<usize>tile * F) << 2);
        for (let f = 0; f < F; f += 4) {
          const lanes = min(4, F - f), full = lanes == 4;
          for (let r = 0; r < 4; r++) {
            for (let s = 0; s < 4; s++) {
              v128.store(d + <usize>(r * 4 + s) * VEC, r < rows && s < cols
                ? loadLanes(src + <usize>r * rowBytes + <usize>s * colBytes + (<usize>f << 2), full, lanes) : zero);
            }
          }
          // t = A dy (6x4), then A tᵀ row by row (6x6).
          for (let s = 0; s < 4; s++) outputAdjointPass(d + <usize>s * VEC, 4 * VEC, t + <usize>s * VEC, 4 * VEC);
          const at = dst + (<usize>f << 2);
          if (full) {
            for (let i = 0; i < 6; i++) outputAdjointPass(t + <usize>i * 4 * VEC, VEC, at + <usize>i * 6 * plane, plane);
          } else {
            for (let i = 0; i < 6; i++) outputAdjointPass(t + <usize>i * 4 * VEC, VEC, out + <usize>i * ROW6, VEC);
            for (let xi = 0; xi < 36; xi++) storeLanes(at + <usize>xi * plane, v128.load(out + <usize>xi * VEC), false, lanes);
          }
        }
      }
    }
  }
}

// dw [3,3,C,F] (+)= Gᵀ du G for every (c, f) of du [36, C, F]: the adjoint of
// winograd4x4_kernel_transform (without rotation).
export function winograd4x4_kernel_transform_adjoint(du: usize, C: i32, F: i32, accumulate: bool, dw: usize, buf: usize): void {
  const d = buf, t = buf + 36 * VEC, out = t + 18 * VEC;
  const plane = (<usize>C * F) << 2;
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f += 4) {
      const lanes = min(4, F - f), full = lanes == 4;
      const src = du + ((<usize>c * F + f) << 2);
      for (let xi = 0; xi < 36; xi++) v128.store(d + <usize>xi * VEC, loadLanes(src + <usize>xi * plane, full, lanes));
      // t = Gᵀ du (3x6), then out = t G (3x3).
      for (let j = 0; j < 6; j++) kernelAdjointPass(d + <usize>j * VEC, ROW6, t + <usize>j * VEC, ROW6);
      for (let i = 0; i < 3; i++) kernelAdjointPass(t + <usize>i * ROW6, VEC, out + <usize>i * 3 * VEC, VEC);
      const at = dw + ((<usize>c * F + f) << 2);
      for (let k = 0; k < 9; k++) {
        const p = at + <usize>k * plane;
        const g = v128.load(out + <usize>k * VEC);
        storeLanes(p, accumulate ? f32x4.add(loadLanes(p, full, lanes), g) : g, full, lanes);
      }
    }
  }
}
