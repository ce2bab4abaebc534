// Winograd F(4x4, 3x3) transforms (Lavin and Gray's, interpolation points 0, ±1, ±2, ∞): 6x6
// input tiles and 36 planes, so a 4x4 output tile costs 36 multiplies per (c, f) instead of
// direct convolution's 144 (F(2x2, 3x3): 16 for 36). The drivers and GEMMs are winograd.ts's;
// these are the five transforms it calls with tile 4:
//
//   U = G g Gᵀ  (6x3 . 3x3 . 3x6)    V = Bᵀ d B  (6x6)    y = Aᵀ M A  (4x6 . 6x6 . 6x4)
//   and the adjoints M = A dy Aᵀ (output side) and dw = Gᵀ dU G (kernel side).
//
// A 2-D transform L X Rᵀ is computed one output row at a time: row i of L X (one value per
// column of X, reading only the cells row i of L uses) held in six registers, then Rᵀ applied to
// them and the results stored. 36 values per tile do not fit in registers, and a first pass
// stored to memory and read back costs more than reading the input cells again. Tiles that
// reach outside the image, or a last group of fewer than four channels, are first copied,
// zero-filled, into `buf`: 2 KiB of the caller's scratch (the kernels keep no memory of their
// own; the memory is shared by every worker).
//
// G has thirds and twenty-fourths, so these transforms round more than F(2x2)'s (measured in
// docs/numerics.md).

import { loadLanes, madd, storeLanes } from "./simd";
import { planeBytes } from "./winograd-planes";

const VEC: usize = 16;       // bytes of one vector
const ROW6: usize = 6 * VEC; // one row of a 6-wide tile of vectors

// --- rows of the transform matrices; `i` is a constant wherever these are inlined ---

// Row i of Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
// 0 4 0 -5 0 1] times (d0..d5).
@inline function bRow(i: i32, d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128): v128 {
  if (i == 0) return madd(f32x4.splat(4), d0, madd(f32x4.splat(-5), d2, d4));
  if (i == 1) return f32x4.sub(f32x4.add(d3, d4), f32x4.mul(f32x4.splat(4), f32x4.add(d1, d2)));
  if (i == 2) return madd(f32x4.splat(4), f32x4.sub(d1, d2), f32x4.sub(d4, d3));
  if (i == 3) return madd(f32x4.splat(2), f32x4.sub(d3, d1), f32x4.sub(d4, d2));
  if (i == 4) return madd(f32x4.splat(2), f32x4.sub(d1, d3), f32x4.sub(d4, d2));
  return madd(f32x4.splat(4), d1, madd(f32x4.splat(-5), d3, d5));
}

// bRow over the six cells p, p + s, ..., p + 5s, loading only those row i uses.
@inline function bRowAt(i: i32, p: usize, s: usize): v128 {
  const zero = f32x4.splat(0);
  const d0 = i == 0 ? v128.load(p) : zero;
  const d1 = i != 0 ? v128.load(p + s) : zero;
  const d2 = i != 5 ? v128.load(p + 2 * s) : zero;
  const d3 = i != 0 ? v128.load(p + 3 * s) : zero;
  const d4 = i != 5 ? v128.load(p + 4 * s) : zero;
  const d5 = i == 5 ? v128.load(p + 5 * s) : zero;
  return bRow(i, d0, d1, d2, d3, d4, d5);
}

// Row i of G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
// times (g0, g1, g2).
@inline function gRow(i: i32, g0: v128, g1: v128, g2: v128): v128 {
  if (i == 0) return f32x4.mul(f32x4.splat(0.25), g0);
  if (i == 1) return f32x4.mul(f32x4.splat(-1.0 / 6), f32x4.add(f32x4.add(g0, g1), g2));
  if (i == 2) return f32x4.mul(f32x4.splat(-1.0 / 6), f32x4.add(f32x4.sub(g0, g1), g2));
  if (i == 3) return madd(f32x4.splat(1.0 / 24), g0, madd(f32x4.splat(1.0 / 12), g1, f32x4.mul(f32x4.splat(1.0 / 6), g2)));
  if (i == 4) return madd(f32x4.splat(1.0 / 24), g0, madd(f32x4.splat(-1.0 / 12), g1, f32x4.mul(f32x4.splat(1.0 / 6), g2)));
  return g2;
}

// Row r of Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] times (m0..m5).
@inline function aRow(r: i32, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  if (r == 0) return f32x4.add(f32x4.add(m0, f32x4.add(m1, m2)), f32x4.add(m3, m4));
  if (r == 1) return madd(f32x4.splat(2), f32x4.sub(m3, m4), f32x4.sub(m1, m2));
  if (r == 2) return madd(f32x4.splat(4), f32x4.add(m3, m4), f32x4.add(m1, m2));
  return f32x4.add(madd(f32x4.splat(8), f32x4.sub(m3, m4), f32x4.sub(m1, m2)), m5);
}

// aRow over the six cells p, p + s, ..., p + 5s, loading only those row r uses.
@inline function aRowAt(r: i32, p: usize, s: usize): v128 {
  const zero = f32x4.splat(0);
  const m0 = r == 0 ? v128.load(p) : zero;
  const m5 = r == 3 ? v128.load(p + 5 * s) : zero;
  return aRow(r, m0, v128.load(p + s), v128.load(p + 2 * s), v128.load(p + 3 * s), v128.load(p + 4 * s), m5);
}

// Row i of A (Aᵀ transposed: [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1])
// times (y0..y3).
@inline function aColumn(i: i32, y0: v128, y1: v128, y2: v128, y3: v128): v128 {
  if (i == 0) return y0;
  if (i == 1) return f32x4.add(f32x4.add(y0, y2), f32x4.add(y1, y3));
  if (i == 2) return f32x4.sub(f32x4.add(y0, y2), f32x4.add(y1, y3));
  if (i == 3) return f32x4.add(madd(f32x4.splat(4), y2, y0), madd(f32x4.splat(8), y3, f32x4.mul(f32x4.splat(2), y1)));
  if (i == 4) return f32x4.sub(madd(f32x4.splat(4), y2, y0), madd(f32x4.splat(8), y3, f32x4.mul(f32x4.splat(2), y1)));
  return y3;
}

// Row k of Gᵀ times (u0..u5).
@inline function gColumn(k: i32, u0: v128, u1: v128, u2: v128, u3: v128, u4: v128, u5: v128): v128 {
  const a = f32x4.add(u1, u2), c = f32x4.add(u3, u4);
  if (k == 0) return madd(f32x4.splat(0.25), u0, madd(f32x4.splat(1.0 / 24), c, f32x4.mul(f32x4.splat(-1.0 / 6), a)));
  if (k == 1) return madd(f32x4.splat(1.0 / 6), f32x4.sub(u2, u1), f32x4.mul(f32x4.splat(1.0 / 12), f32x4.sub(u3, u4)));
  return madd(f32x4.splat(1.0 / 6), f32x4.sub(c, a), u5);
}

// --- 2-D transforms over whole tensors ---

// Row i of U = G g Gᵀ, stored at planes 6i .. 6i + 5 from `dst`.
@inline function kernelRow(
  i: i32, g00: v128, g01: v128, g02: v128, g10: v128, g11: v128, g12: v128, g20: v128, g21: v128, g22: v128,
  dst: usize, plane: usize, full: bool, lanes: i32,
): void {
  const t0 = gRow(i, g00, g10, g20), t1 = gRow(i, g01, g11, g21), t2 = gRow(i, g02, g12, g22);
  const d = dst + <usize>(6 * i) * plane;
  storeLanes(d, gRow(0, t0, t1, t2), full, lanes);
  storeLanes(d + plane, gRow(1, t0, t1, t2), full, lanes);
  storeLanes(d + 2 * plane, gRow(2, t0, t1, t2), full, lanes);
  storeLanes(d + 3 * plane, gRow(3, t0, t1, t2), full, lanes);
  storeLanes(d + 4 * plane, gRow(4, t0, t1, t2), full, lanes);
  storeLanes(d + 5 * plane, gRow(5, t0, t1, t2), full, lanes);
}

@inline function kernelCell(src: usize, k: i32, rotate: bool, plane: usize, full: bool, lanes: i32): v128 {
  return loadLanes(src + <usize>(rotate ? 8 - k : k) * plane, full, lanes);
}

// u [36, C, F] = G g Gᵀ for every (c, f) of w [3,3,C,F]; with `rotate`, of w rotated by 180
// degrees (the backward-to-input kernel, read by the GEMM with c and f swapped).
export function winograd4x4_kernel_transform(w: usize, C: i32, F: i32, rotate: bool, u: usize, buf: usize): void {
  const plane = (<usize>C * F) << 2, uPlane = planeBytes(<usize>C * F); // w's cells, u's planes
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f += 4) {
      const lanes = min(4, F - f), full = lanes == 4;
      const off = (<usize>c * F + f) << 2;
      const src = w + off;
      // Cell k = kh * 3 + kw; rotated, cell k holds w's cell 8 - k.
      const g00 = kernelCell(src, 0, rotate, plane, full, lanes), g01 = kernelCell(src, 1, rotate, plane, full, lanes);
      const g02 = kernelCell(src, 2, rotate, plane, full, lanes), g10 = kernelCell(src, 3, rotate, plane, full, lanes);
      const g11 = kernelCell(src, 4, rotate, plane, full, lanes), g12 = kernelCell(src, 5, rotate, plane, full, lanes);
      const g20 = kernelCell(src, 6, rotate, plane, full, lanes), g21 = kernelCell(src, 7, rotate, plane, full, lanes);
      const g22 = kernelCell(src, 8, rotate, plane, full, lanes);
      const dst = u + off;
      kernelRow(0, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
      kernelRow(1, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
      kernelRow(2, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
      kernelRow(3, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
      kernelRow(4, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
      kernelRow(5, g00, g01, g02, g10, g11, g12, g20, g21, g22, dst, uPlane, full, lanes);
    }
  }
}

// Row i of V = Bᵀ d B for the tile whose cell (r, s) is at p + r*rs + s*cs, stored at planes
// 6i .. 6i + 5 from `dst`.
@inline function inputRow(i: i32, p: usize, rs: usize, cs: usize, dst: usize, plane: usize, full: bool, lanes: i32): void {
  const t0 = bRowAt(i, p, rs), t1 = bRowAt(i, p + cs, rs), t2 = bRowAt(i, p + 2 * cs, rs);
  const t3 = bRowAt(i, p + 3 * cs, rs), t4 = bRowAt(i, p + 4 * cs, rs), t5 = bRowAt(i, p + 5 * cs, rs);
  const d = dst + <usize>(6 * i) * plane;
  storeLanes(d, bRow(0, t0, t1, t2, t3, t4, t5), full, lanes);
  storeLanes(d + plane, bRow(1, t0, t1, t2, t3, t4, t5), full, lanes);
  storeLanes(d + 2 * plane, bRow(2, t0, t1, t2, t3, t4, t5), full, lanes);
  storeLanes(d + 3 * plane, bRow(3, t0, t1, t2, t3, t4, t5), full, lanes);
  storeLanes(d + 4 * plane, bRow(4, t0, t1, t2, t3, t4, t5), full, lanes);
  storeLanes(d + 5 * plane, bRow(5, t0, t1, t2, t3, t4, t5), full, lanes);
}

// v [36, T, C] = Bᵀ d B for every 6x6 tile d of x [N,H,W,C] whose top-left input cell is
// (4*ty - padT, 4*tx - padL); cells outside x read as zero.
export function winograd4x4_input_transform(
  x: usize, N: i32, H: i32, W: i32, C: i32, padT: i32, padL: i32, tilesH: i32, tilesW: i32, v: usize, buf: usize,
): void {
  const T = N * tilesH * tilesW;
  const plane = planeBytes(<usize>T * C);
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
          // x where the whole tile is inside it, else a zero-filled copy.
          let p = xn + ((<isize>(y0 * W + x0) * C + c) << 2), rs = rowBytes, cs = colBytes;
          if (!inside || !full) {
            for (let r = 0; r < 6; r++) {
              for (let s = 0; s < 6; s++) {
                const yy = y0 + r, xx = x0 + s;
                const ok = yy >= 0 && yy < H && xx >= 0 && xx < W;
                v128.store(buf + <usize>(r * 6 + s) * VEC, ok ? loadLanes(p + <usize>r * rowBytes + <usize>s * colBytes, full, lanes) : zero);
              }
            }
            p = buf; rs = ROW6; cs = VEC;
          }
          const at = dst + (<usize>c << 2);
          inputRow(0, p, rs, cs, at, plane, full, lanes);
          inputRow(1, p, rs, cs, at, plane, full, lanes);
          inputRow(2, p, rs, cs, at, plane, full, lanes);
          inputRow(3, p, rs, cs, at, plane, full, lanes);
          inputRow(4, p, rs, cs, at, plane, full, lanes);
          inputRow(5, p, rs, cs, at, plane, full, lanes);
        }
      }
    }
  }
}

// Output row r of Aᵀ M A (+ bias) for the tile whose plane ξ is at m + ξ*plane, its first
// `cols` cells stored from `d`.
@inline function outputRow(r: i32, m: usize, plane: usize, bias: v128, d: usize, colBytes: usize, cols: i32, full: bool, lanes: i32): void {
  const rowStep: usize = 6 * plane;
  const t0 = aRowAt(r, m, rowStep), t1 = aRowAt(r, m + plane, rowStep), t2 = aRowAt(r, m + 2 * plane, rowStep);
  const t3 = aRowAt(r, m + 3 * plane, rowStep), t4 = aRowAt(r, m + 4 * plane, rowStep), t5 = aRowAt(r, m + 5 * plane, rowStep);
  storeLanes(d, f32x4.add(aRow(0, t0, t1, t2, t3, t4, t5), bias), full, lanes);
  if (cols > 1) storeLanes(d + colBytes, f32x4.add(aRow(1, t0, t1, t2, t3, t4, t5), bias), full, lanes);
  if (cols > 2) storeLanes(d + 2 * colBytes, f32x4.add(aRow(2, t0, t1, t2, t3, t4, t5), bias), full, lanes);
  if (cols > 3) storeLanes(d + 3 * colBytes, f32x4.add(aRow(3, t0, t1, t2, t3, t4, t5), bias), full, lanes);
}

// Row i of A dy Aᵀ for a 4x4 tile of vectors at `d`, stored at planes 6i .. 6i + 5 from `dst`.
@inline function adjointRow(i: i32, d: usize, dst: usize, plane: usize, full: bool, lanes: i32): void {
  const s: usize = 4 * VEC;
  const t0 = aColumn(i, v128.load(d), v128.load(d + s), v128.load(d + 2 * s), v128.load(d + 3 * s));
  const t1 = aColumn(i, v128.load(d + VEC), v128.load(d + VEC + s), v128.load(d + VEC + 2 * s), v128.load(d + VEC + 3 * s));
  const t2 = aColumn(i, v128.load(d + 2 * VEC), v128.load(d + 2 * VEC + s), v128.load(d + 2 * VEC + 2 * s), v128.load(d + 2 * VEC + 3 * s));
  const t3 = aColumn(i, v128.load(d + 3 * VEC), v128.load(d + 3 * VEC + s), v128.load(d + 3 * VEC + 2 * s), v128.load(d + 3 * VEC + 3 * s));
  const o = dst + <usize>(6 * i) * plane;
  storeLanes(o, aColumn(0, t0, t1, t2, t3), full, lanes);
  storeLanes(o + plane, aColumn(1, t0, t1, t2, t3), full, lanes);
  storeLanes(o + 2 * plane, aColumn(2, t0, t1, t2, t3), full, lanes);
  storeLanes(o + 3 * plane, aColumn(3, t0, t1, t2, t3), full, lanes);
  storeLanes(o + 4 * plane, aColumn(4, t0, t1, t2, t3), full, lanes);
  storeLanes(o + 5 * plane, aColumn(5, t0, t1, t2, t3), full, lanes);
}

// y [N,OH,OW,F] = Aᵀ m A (+ b [F]; b = 0: no bias) for every tile of m [36, T, F]; the cells of a
// tile past the output's edge are dropped. (Lanes past F in a partial group read whatever
// follows in m: computed, never stored.)
export function winograd4x4_output_transform(
  m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize, buf: usize,
): void {
  outputTiles(m, N, OH, OW, F, tilesH, tilesW, b, y, buf, false);
}

// m [36, T, F] = A dy Aᵀ for every 4x4 tile of dy [N,OH,OW,F] (cells past the edge read as
// zero): the adjoint of winograd4x4_output_transform.
export function winograd4x4_output_transform_adjoint(
  dy: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, m: usize, buf: usize,
): void {
  outputTiles(m, N, OH, OW, F, tilesH, tilesW, 0, dy, buf, true);
}

// Walks the 4x4 output tiles of y [N,OH,OW,F] and their planes in m [36, T, F]: writes y from m,
// or (`adjoint`) m from y.
function outputTiles(m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize, buf: usize, adjoint: bool): void {
  const T = N * tilesH * tilesW;
  const plane = planeBytes(<usize>T * F);
  const rowBytes = (<usize>OW * F) << 2, colBytes = <usize>F << 2;
  const zero = f32x4.splat(0);
  let tile = 0;
  for (let n = 0; n < N; n++) {
    const yn = y + ((<usize>n * OH * OW * F) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const oy = ty * 4, rows = min(4, OH - oy);
      for (let tx = 0; tx < tilesW; tx++, tile++) {
        const ox = tx * 4, cols = min(4, OW - ox);
        const mt = m + ((<usize>tile * F) << 2);
        const yt = yn + ((<usize>(oy * OW + ox) * F) << 2);
        for (let f = 0; f < F; f += 4) {
          const lanes = min(4, F - f), full = lanes == 4;
          const at = mt + (<usize>f << 2), d = yt + (<usize>f << 2);
          if (adjoint) {
            // The tile's 16 cells, zero past the edge: read six times below, so copied once.
            for (let r = 0; r < 4; r++) {
              for (let s = 0; s < 4; s++) {
                v128.store(buf + <usize>(r * 4 + s) * VEC, r < rows && s < cols
                  ? loadLanes(d + <usize>r * rowBytes + <usize>s * colBytes, full, lanes) : zero);
              }
            }
            adjointRow(0, buf, at, plane, full, lanes);
            adjointRow(1, buf, at, plane, full, lanes);
            adjointRow(2, buf, at, plane, full, lanes);
            adjointRow(3, buf, at, plane, full, lanes);
            adjointRow(4, buf, at, plane, full, lanes);
            adjointRow(5, buf, at, plane, full, lanes);
          } else {
            const bias = b != 0 ? loadLanes(b + (<usize>f << 2), full, lanes) : zero;
            outputRow(0, at, plane, bias, d, colBytes, cols, full, lanes);
            if (rows > 1) outputRow(1, at, plane, bias, d + rowBytes, colBytes, cols, full, lanes);
            if (rows > 2) outputRow(2, at, plane, bias, d + 2 * rowBytes, colBytes, cols, full, lanes);
            if (rows > 3) outputRow(3, at, plane, bias, d + 3 * rowBytes, colBytes, cols, full, lanes);
          }
        }
      }
    }
  }
}

// Row i of du G (three values), stored in t at cells 3i .. 3i + 2.
@inline function kernelAdjointRow(i: i32, s: usize, plane: usize, t: usize, full: bool, lanes: i32): void {
  const p = s + <usize>(6 * i) * plane;
  const u0 = loadLanes(p, full, lanes), u1 = loadLanes(p + plane, full, lanes), u2 = loadLanes(p + 2 * plane, full, lanes);
  const u3 = loadLanes(p + 3 * plane, full, lanes), u4 = loadLanes(p + 4 * plane, full, lanes), u5 = loadLanes(p + 5 * plane, full, lanes);
  const o = t + <usize>(3 * i) * VEC;
  v128.store(o, gColumn(0, u0, u1, u2, u3, u4, u5));
  v128.store(o + VEC, gColumn(1, u0, u1, u2, u3, u4, u5));
  v128.store(o + 2 * VEC, gColumn(2, u0, u1, u2, u3, u4, u5));
}

// dw[kh, kw, c, f..) (+)= (Gᵀ t)[kh][kw] for t [6][3] at `t`.
@inline function kernelAdjointColumn(kw: i32, t: usize, dw: usize, plane: usize, accumulate: bool, full: bool, lanes: i32): void {
  const s: usize = 3 * VEC, p = t + <usize>kw * VEC;
  const t0 = v128.load(p), t1 = v128.load(p + s), t2 = v128.load(p + 2 * s);
  const t3 = v128.load(p + 3 * s), t4 = v128.load(p + 4 * s), t5 = v128.load(p + 5 * s);
  for (let kh = 0; kh < 3; kh++) {
    const g = kh == 0 ? gColumn(0, t0, t1, t2, t3, t4, t5) : kh == 1 ? gColumn(1, t0, t1, t2, t3, t4, t5) : gColumn(2, t0, t1, t2, t3, t4, t5);
    const q = dw + <usize>(kh * 3 + kw) * plane;
    storeLanes(q, accumulate ? f32x4.add(loadLanes(q, full, lanes), g) : g, full, lanes);
  }
}

// dw [3,3,C,F] (+)= Gᵀ du G for every (c, f) of du [36, C, F]: the adjoint of
// winograd4x4_kernel_transform (without rotation).
export function winograd4x4_kernel_transform_adjoint(du: usize, C: i32, F: i32, accumulate: bool, dw: usize, buf: usize): void {
  const plane = (<usize>C * F) << 2, duPlane = planeBytes(<usize>C * F); // dw's cells, du's planes
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f += 4) {
      const lanes = min(4, F - f), full = lanes == 4;
      const off = (<usize>c * F + f) << 2;
      // t = du G (6x3) through buf, then Gᵀ t (3x3).
      for (let i = 0; i < 6; i++) kernelAdjointRow(i, du + off, duPlane, buf, full, lanes);
      kernelAdjointColumn(0, buf, dw + off, plane, accumulate, full, lanes);
      kernelAdjointColumn(1, buf, dw + off, plane, accumulate, full, lanes);
      kernelAdjointColumn(2, buf, dw + off, plane, accumulate, full, lanes);
    }
  }
}
