// Winograd convolution for 3x3 stride-1 kernels, in Keras layouts (x [N,H,W,C], w [3,3,C,F],
// y [N,OH,OW,F]): the drivers for F(2x2, 3x3) and F(4x4, 3x3), and F(2x2)'s transforms (F(4x4)'s
// are in winograd-f4.ts). In F(2x2) each 2x2 output tile costs 16 multiplies per (c, f) instead
// of 36:
//
//   U[ξ] = G g Gᵀ        the kernel, per (c, f)          U [16, C, F]
//   V[ξ] = Bᵀ d B        a 4x4 input tile, per channel   V [16, T, C]
//   M[ξ] = V[ξ] · U[ξ]   16 GEMMs through sgemm          M [16, T, F]
//   y    = Aᵀ M A        a 2x2 output tile, per filter
//
// T = N * tilesH * tilesW, with tilesH = ceil(OH / 2): tiles past the output's edge are computed
// and dropped. Input cells outside the image read as zero, so any top/left padding works.
//
// The backward pass to the input of a stride-1 convolution is the correlation of dy with the
// kernel rotated by 180 degrees and its channels swapped, padded by 2 - padT. Rotating g maps
// G g Gᵀ to P (G g Gᵀ) Pᵀ, where P swaps rows 0 and 3 (G with its columns reversed is G with
// rows 0 and 3 swapped), so the rotated kernel's transform is the same arithmetic stored at
// permuted positions.
//
// F(4x4) is the same with 6x6 input tiles, 4x4 output tiles and 36 planes.

import { sgemm } from "./gemm";
import { col_sum } from "./elementwise";
import { loadLanes, storeLanes } from "./simd";
import { WINOGRAD_BUFFER_BYTES, planeBytes, tilesAlong } from "./winograd-planes";
import {
  winograd4x4_kernel_transform, winograd4x4_input_transform, winograd4x4_output_transform,
  winograd4x4_output_transform_adjoint, winograd4x4_kernel_transform_adjoint,
} from "./winograd-f4";

const TILE = 2;

// Index of transform cell (i, j) in the rotated kernel's transform: rows and columns 0 and 3 swap.
@inline function rotated(i: i32): i32 {
  return i == 0 ? 3 : i == 3 ? 0 : i;
}

// u [16, C, F] = G g Gᵀ for every (c, f) of w [3,3,C,F]. With `rotate`, u holds the transform of
// w rotated by 180 degrees (the backward-to-input kernel, read by the GEMM with c and f swapped).
export function winograd_kernel_transform(w: usize, C: i32, F: i32, rotate: bool, u: usize): void {
  const half = f32x4.splat(0.5);
  const plane = <usize>C * F;
  for (let c = 0; c < C; c++) {
    let f = 0;
    for (; f < F; f += 4) {
      const lanes = min(4, F - f);
      // g[kh][kw] for four filters at once (scalar-filled for a partial last vector).
      let g00: v128, g01: v128, g02: v128, g10: v128, g11: v128, g12: v128, g20: v128, g21: v128, g22: v128;
      if (lanes == 4) {
        const base = w + ((<usize>c * F + f) << 2);
        const step = plane << 2;
        g00 = v128.load(base); g01 = v128.load(base + step); g02 = v128.load(base + 2 * step);
        g10 = v128.load(base + 3 * step); g11 = v128.load(base + 4 * step); g12 = v128.load(base + 5 * step);
        g20 = v128.load(base + 6 * step); g21 = v128.load(base + 7 * step); g22 = v128.load(base + 8 * step);
      } else {
        g00 = partial(w, c, f, lanes, C, F, 0); g01 = partial(w, c, f, lanes, C, F, 1); g02 = partial(w, c, f, lanes, C, F, 2);
        g10 = partial(w, c, f, lanes, C, F, 3); g11 = partial(w, c, f, lanes, C, F, 4); g12 = partial(w, c, f, lanes, C, F, 5);
        g20 = partial(w, c, f, lanes, C, F, 6); g21 = partial(w, c, f, lanes, C, F, 7); g22 = partial(w, c, f, lanes, C, F, 8);
      }
      // t = G g (4x3), one column at a time.
      const t00 = g00, t30 = g20;
      const t10 = f32x4.mul(half, f32x4.add(f32x4.add(g00, g10), g20));
      const t20 = f32x4.mul(half, f32x4.add(f32x4.sub(g00, g10), g20));
      const t01 = g01, t31 = g21;
      const t11 = f32x4.mul(half, f32x4.add(f32x4.add(g01, g11), g21));
      const t21 = f32x4.mul(half, f32x4.add(f32x4.sub(g01, g11), g21));
      const t02 = g02, t32 = g22;
      const t12 = f32x4.mul(half, f32x4.add(f32x4.add(g02, g12), g22));
      const t22 = f32x4.mul(half, f32x4.add(f32x4.sub(g02, g12), g22));
      // u = t Gᵀ (4x4), one row at a time.
      storeKernelRow(u, 0, t00, t01, t02, half, c, f, lanes, C, F, rotate);
      storeKernelRow(u, 1, t10, t11, t12, half, c, f, lanes, C, F, rotate);
      storeKernelRow(u, 2, t20, t21, t22, half, c, f, lanes, C, F, rotate);
      storeKernelRow(u, 3, t30, t31, t32, half, c, f, lanes, C, F, rotate);
    }
  }
}

// w[kh, kw, c, f .. f+lanes) with zeros in the missing lanes; k = kh * 3 + kw.
@inline function partial(w: usize, c: i32, f: i32, lanes: i32, C: i32, F: i32, k: i32): v128 {
  return cell(w + ((<usize>(k * C + c) * F + f) << 2), 1, 0, f32x4.splat(0), false, lanes);
}

@inline function storeKernelRow(
  u: usize, i: i32, a: v128, b: v128, c2: v128, half: v128,
  c: i32, f: i32, lanes: i32, C: i32, F: i32, rotate: bool,
): void {
  storeKernel(u, i, 0, a, c, f, lanes, C, F, rotate);
  storeKernel(u, i, 1, f32x4.mul(half, f32x4.add(f32x4.add(a, b), c2)), c, f, lanes, C, F, rotate);
  storeKernel(u, i, 2, f32x4.mul(half, f32x4.add(f32x4.sub(a, b), c2)), c, f, lanes, C, F, rotate);
  storeKernel(u, i, 3, c2, c, f, lanes, C, F, rotate);
}

@inline function storeKernel(u: usize, i: i32, j: i32, v: v128, c: i32, f: i32, lanes: i32, C: i32, F: i32, rotate: bool): void {
  const xi = rotate ? rotated(i) * 4 + rotated(j) : i * 4 + j;
  storeLanes(u + <usize>xi * planeBytes(<usize>C * F) + ((<usize>c * F + f) << 2), v, lanes == 4, lanes);
}

// v [16, T, C] = Bᵀ d B for every 4x4 tile d of x [N,H,W,C] whose top-left input cell is
// (2*ty - padT, 2*tx - padL); cells outside x read as zero.
export function winograd_input_transform(
  x: usize, N: i32, H: i32, W: i32, C: i32, padT: i32, padL: i32, tilesH: i32, tilesW: i32, v: usize,
): void {
  const T = N * tilesH * tilesW;
  const plane = planeBytes(<usize>T * C); // bytes between two ξ planes of v
  const zero = f32x4.splat(0);
  let t = 0;
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * H * W * C) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const y0 = ty * TILE - padT;
      for (let tx = 0; tx < tilesW; tx++, t++) {
        const x0 = tx * TILE - padL;
        // Bit r*4+s set: input cell (y0 + r, x0 + s) is inside the image.
        let inside = 0;
        for (let r = 0; r < 4; r++) {
          for (let s = 0; s < 4; s++) {
            if (y0 + r >= 0 && y0 + r < H && x0 + s >= 0 && x0 + s < W) inside |= 1 << (r * 4 + s);
          }
        }
        const dst = v + ((<usize>t * C) << 2);
        // The address of cell (y0, x0), possibly outside x: only cells whose bit is set are read.
        const origin = xn + ((<isize>(y0 * W + x0) * C) << 2);
        const rowBytes = (<usize>W * C) << 2, colBytes = <usize>C << 2;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const p = origin + (<usize>c << 2);
          inputTile(p, rowBytes, colBytes, inside, zero, dst + (<usize>c << 2), plane, true, 4);
        }
        if (c < C) inputTile(origin + (<usize>c << 2), rowBytes, colBytes, inside, zero, dst + (<usize>c << 2), plane, false, C - c);
      }
    }
  }
}

@inline function cell(p: usize, inside: i32, bit: i32, zero: v128, full: bool, lanes: i32): v128 {
  return ((inside >> bit) & 1) == 0 ? zero : loadLanes(p, full, lanes);
}

// One tile, four channels: Bᵀ d B with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
@inline function inputTile(p: usize, rowBytes: usize, colBytes: usize, inside: i32, zero: v128, d: usize, plane: usize, full: bool, lanes: i32): void {
  // Columns of Bᵀ d, row by row of d.
  const r0 = p, r1 = p + rowBytes, r2 = p + 2 * rowBytes, r3 = p + 3 * rowBytes;
  const c1 = colBytes, c2 = colBytes << 1, c3 = c1 + c2;
  const d00 = cell(r0, inside, 0, zero, full, lanes), d01 = cell(r0 + c1, inside, 1, zero, full, lanes);
  const d02 = cell(r0 + c2, inside, 2, zero, full, lanes), d03 = cell(r0 + c3, inside, 3, zero, full, lanes);
  const d10 = cell(r1, inside, 4, zero, full, lanes), d11 = cell(r1 + c1, inside, 5, zero, full, lanes);
  const d12 = cell(r1 + c2, inside, 6, zero, full, lanes), d13 = cell(r1 + c3, inside, 7, zero, full, lanes);
  const d20 = cell(r2, inside, 8, zero, full, lanes), d21 = cell(r2 + c1, inside, 9, zero, full, lanes);
  const d22 = cell(r2 + c2, inside, 10, zero, full, lanes), d23 = cell(r2 + c3, inside, 11, zero, full, lanes);
  const d30 = cell(r3, inside, 12, zero, full, lanes), d31 = cell(r3 + c1, inside, 13, zero, full, lanes);
  const d32 = cell(r3 + c2, inside, 14, zero, full, lanes), d33 = cell(r3 + c3, inside, 15, zero, full, lanes);
  // t = Bᵀ d
  const t00 = f32x4.sub(d00, d20), t01 = f32x4.sub(d01, d21), t02 = f32x4.sub(d02, d22), t03 = f32x4.sub(d03, d23);
  const t10 = f32x4.add(d10, d20), t11 = f32x4.add(d11, d21), t12 = f32x4.add(d12, d22), t13 = f32x4.add(d13, d23);
  const t20 = f32x4.sub(d20, d10), t21 = f32x4.sub(d21, d11), t22 = f32x4.sub(d22, d12), t23 = f32x4.sub(d23, d13);
  const t30 = f32x4.sub(d10, d30), t31 = f32x4.sub(d11, d31), t32 = f32x4.sub(d12, d32), t33 = f32x4.sub(d13, d33);
  // v = t B, stored at plane ξ = i*4 + j.
  inputRow(d, 0, plane, t00, t01, t02, t03, full, lanes);
  inputRow(d, 4, plane, t10, t11, t12, t13, full, lanes);
  inputRow(d, 8, plane, t20, t21, t22, t23, full, lanes);
  inputRow(d, 12, plane, t30, t31, t32, t33, full, lanes);
}

@inline function inputRow(d: usize, xi: i32, plane: usize, a: v128, b: v128, c: v128, e: v128, full: bool, lanes: i32): void {
  storeLanes(d + <usize>xi * plane, f32x4.sub(a, c), full, lanes);
  storeLanes(d + <usize>(xi + 1) * plane, f32x4.add(b, c), full, lanes);
  storeLanes(d + <usize>(xi + 2) * plane, f32x4.sub(c, b), full, lanes);
  storeLanes(d + <usize>(xi + 3) * plane, f32x4.sub(b, e), full, lanes);
}

// y [N,OH,OW,F] = Aᵀ m A (+ b [F], b = 0: no bias) for every tile of m [16, T, F], with
// Aᵀ = [1 1 1 0; 0 1 -1 -1]; the cells of a tile past the output's edge are dropped.
export function winograd_output_transform(m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize): void {
  outputTiles(m, N, OH, OW, F, tilesH, tilesW, b, y, false);
}

// m [16, T, F] = A dy Aᵀ for every 2x2 tile of dy [N,OH,OW,F] (cells past the edge read as
// zero), with A = [1 0; 1 1; 1 -1; 0 -1]: the adjoint of winograd_output_transform.
export function winograd_output_transform_adjoint(dy: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, m: usize): void {
  outputTiles(m, N, OH, OW, F, tilesH, tilesW, 0, dy, true);
}

// Walks the 2x2 output tiles of y [N,OH,OW,F] and their planes in m [16, T, F]: writes y from m,
// or (`adjoint`) m from y.
function outputTiles(m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize, adjoint: bool): void {
  const T = N * tilesH * tilesW;
  const plane = planeBytes(<usize>T * F);
  const zero = f32x4.splat(0);
  const rowBytes = (<usize>OW * F) << 2;
  let t = 0;
  for (let n = 0; n < N; n++) {
    const yn = y + ((<usize>n * OH * OW * F) << 2);
    for (let ty = 0; ty < tilesH; ty++) {
      const oy = ty * TILE;
      const rows = min(TILE, OH - oy);
      for (let tx = 0; tx < tilesW; tx++, t++) {
        const ox = tx * TILE;
        const cols = min(TILE, OW - ox);
        const mt = m + ((<usize>t * F) << 2);
        const yt = yn + ((<usize>(oy * OW + ox) * F) << 2);
        if (adjoint) {
          // Bits 0..3: cells (0,0), (0,1), (1,0), (1,1) of the tile are inside y.
          const inside = 1 | (cols > 1 ? 2 : 0) | (rows > 1 ? 4 : 0) | (rows > 1 && cols > 1 ? 8 : 0);
          let f = 0;
          for (; f + 4 <= F; f += 4) adjointTile(yt + (<usize>f << 2), rowBytes, F, inside, zero, mt + (<usize>f << 2), plane, true, 4);
          if (f < F) adjointTile(yt + (<usize>f << 2), rowBytes, F, inside, zero, mt + (<usize>f << 2), plane, false, F - f);
        } else {
          let f = 0;
          for (; f + 4 <= F; f += 4) {
            const bias = b != 0 ? v128.load(b + (<usize>f << 2)) : zero;
            outputTile(mt + (<usize>f << 2), plane, bias, yt + (<usize>f << 2), rowBytes, F, rows, cols, true, 4);
          }
          if (f < F) {
            const bias = b != 0 ? cell(b + (<usize>f << 2), 1, 0, zero, false, F - f) : zero;
            outputTile(mt + (<usize>f << 2), plane, bias, yt + (<usize>f << 2), rowBytes, F, rows, cols, false, F - f);
          }
        }
      }
    }
  }
}

@inline function outputTile(s: usize, plane: usize, bias: v128, d: usize, rowBytes: usize, F: i32, rows: i32, cols: i32, full: bool, lanes: i32): void {
  const zero = f32x4.splat(0);
  // s = Aᵀ m, two rows of four.
  const m0 = mload(s, 0, plane, full, lanes, zero), m1 = mload(s, 1, plane, full, lanes, zero);
  const m2 = mload(s, 2, plane, full, lanes, zero), m3 = mload(s, 3, plane, full, lanes, zero);
  const m4 = mload(s, 4, plane, full, lanes, zero), m5 = mload(s, 5, plane, full, lanes, zero);
  const m6 = mload(s, 6, plane, full, lanes, zero), m7 = mload(s, 7, plane, full, lanes, zero);
  const m8 = mload(s, 8, plane, full, lanes, zero), m9 = mload(s, 9, plane, full, lanes, zero);
  const m10 = mload(s, 10, plane, full, lanes, zero), m11 = mload(s, 11, plane, full, lanes, zero);
  const m12 = mload(s, 12, plane, full, lanes, zero), m13 = mload(s, 13, plane, full, lanes, zero);
  const m14 = mload(s, 14, plane, full, lanes, zero), m15 = mload(s, 15, plane, full, lanes, zero);
  const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
  const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
  const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
  const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
  // y = s A, plus the bias.
  const colBytes = <usize>F << 2;
  storeLanes(d, f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bias), full, lanes);
  if (cols > 1) storeLanes(d + colBytes, f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bias), full, lanes);
  if (rows > 1) {
    storeLanes(d + rowBytes, f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bias), full, lanes);
    if (cols > 1) storeLanes(d + rowBytes + colBytes, f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bias), full, lanes);
  }
}

@inline function mload(s: usize, xi: i32, plane: usize, full: bool, lanes: i32, zero: v128): v128 {
  return cell(s + <usize>xi * plane, 1, 0, zero, full, lanes);
}

// The drivers below run F(2x2, 3x3) (tile 2, this file's transforms) or F(4x4, 3x3) (tile 4,
// winograd-f4.ts's). Scratch: a 2 KiB tile buffer, then U, V and M of P = (tile + 2)² planes.

function kernelTransform(w: usize, C: i32, F: i32, rotate: bool, u: usize, tile: i32, buf: usize): void {
  if (tile == 4) winograd4x4_kernel_transform(w, C, F, rotate, u, buf);
  else winograd_kernel_transform(w, C, F, rotate, u);
}

function inputTransform(x: usize, N: i32, H: i32, W: i32, C: i32, padT: i32, padL: i32, tilesH: i32, tilesW: i32, v: usize, tile: i32, buf: usize): void {
  if (tile == 4) winograd4x4_input_transform(x, N, H, W, C, padT, padL, tilesH, tilesW, v, buf);
  else winograd_input_transform(x, N, H, W, C, padT, padL, tilesH, tilesW, v);
}

function outputTransform(m: usize, N: i32, OH: i32, OW: i32, F: i32, tilesH: i32, tilesW: i32, b: usize, y: usize, tile: i32, buf: usize): void {
  if (tile == 4) winograd4x4_output_transform(m, N, OH, OW, F, tilesH, tilesW, b, y, buf);
  else winograd_output_transform(m, N, OH, OW, F, tilesH, tilesW, b, y);
}

// y [N,OH,OW,F] = conv(x [N,H,W,C], w [3,3,C,F]) + b [F], stride 1 (b = 0: no bias), by
// F(tile x tile, 3x3). scratch: winograd_scratch_bytes (winograd-planes.ts) bytes; ws: GEMM scratch.
export function conv2d_winograd_forward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, F: i32, padT: i32, padL: i32, OH: i32, OW: i32, tile: i32, scratch: usize, ws: usize,
): void {
  correlate(x, N, H, W, C, padT, padL, w, C, F, false, OH, OW, F, b, y, tile, scratch, ws);
}

// dx [N,H,W,C] = gradient of sum(y * dy) with respect to x for the stride-1 3x3 convolution
// above: dy [N,OH,OW,F] correlated with the rotated, channel-swapped kernel, padded 2 - padT.
export function conv2d_winograd_backward_input(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, F: i32, padT: i32, padL: i32, OH: i32, OW: i32, tile: i32, scratch: usize, ws: usize,
): void {
  correlate(dy, N, OH, OW, F, 2 - padT, 2 - padL, w, C, F, true, H, W, C, 0, dx, tile, scratch, ws);
}

// dst [N,dstH,dstW,dstC] = src [N,srcH,srcW,srcC] correlated with w [3,3,C,F] (+ b): as it is
// (srcC = C, dstC = F), or rotated by 180 degrees with its channels swapped (srcC = F, dstC = C).
function correlate(
  src: usize, N: i32, srcH: i32, srcW: i32, srcC: i32, padT: i32, padL: i32,
  w: usize, C: i32, F: i32, rotate: bool, dstH: i32, dstW: i32, dstC: i32, b: usize, dst: usize,
  tile: i32, scratch: usize, ws: usize,
): void {
  const tilesH = tilesAlong(dstH, tile), tilesW = tilesAlong(dstW, tile);
  const T = N * tilesH * tilesW, P = (tile + 2) * (tile + 2);
  const buf = scratch, u = scratch + WINOGRAD_BUFFER_BYTES;
  const v = u + <usize>P * planeBytes(<usize>C * F);
  const m = v + <usize>P * planeBytes(<usize>T * srcC);
  kernelTransform(w, C, F, rotate, u, tile, buf);
  inputTransform(src, N, srcH, srcW, srcC, padT, padL, tilesH, tilesW, v, tile, buf);
  // B is u's [C, F] plane, read transposed ([F, C]) for the rotated kernel.
  const rsb = rotate ? 1 : F, csb = rotate ? F : 1;
  for (let xi = 0; xi < P; xi++) {
    sgemm(T, dstC, srcC, v + <usize>xi * planeBytes(<usize>T * srcC), srcC, 1, u + <usize>xi * planeBytes(<usize>C * F), rsb, csb,
      m + <usize>xi * planeBytes(<usize>T * dstC), dstC, false, ws);
  }
  outputTransform(m, N, dstH, dstW, dstC, tilesH, tilesW, b, dst, tile, buf);
}

@inline function adjointTile(s: usize, rowBytes: usize, F: i32, inside: i32, zero: v128, d: usize, plane: usize, full: bool, lanes: i32): void {
  const colBytes = <usize>F << 2;
  const a = cell(s, inside, 0, zero, full, lanes), b = cell(s + colBytes, inside, 1, zero, full, lanes);
  const c = cell(s + rowBytes, inside, 2, zero, full, lanes), e = cell(s + rowBytes + colBytes, inside, 3, zero, full, lanes);
  // r = A dy (4x2), then m = r Aᵀ (4x4), row i: [p, p + q, p - q, -q].
  adjointRow(d, 0, plane, a, b, full, lanes);
  adjointRow(d, 4, plane, f32x4.add(a, c), f32x4.add(b, e), full, lanes);
  adjointRow(d, 8, plane, f32x4.sub(a, c), f32x4.sub(b, e), full, lanes);
  adjointRow(d, 12, plane, f32x4.neg(c), f32x4.neg(e), full, lanes);
}

@inline function adjointRow(d: usize, xi: i32, plane: usize, p: v128, q: v128, full: bool, lanes: i32): void {
  storeLanes(d + <usize>xi * plane, p, full, lanes);
  storeLanes(d + <usize>(xi + 1) * plane, f32x4.add(p, q), full, lanes);
  storeLanes(d + <usize>(xi + 2) * plane, f32x4.sub(p, q), full, lanes);
  storeLanes(d + <usize>(xi + 3) * plane, f32x4.neg(q), full, lanes);
}

// dw [3,3,C,F] (+)= Gᵀ du G for every (c, f) of du [16, C, F]: the adjoint of
// winograd_kernel_transform, with Gᵀ = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1].
export function winograd_kernel_transform_adjoint(du: usize, C: i32, F: i32, accumulate: bool, dw: usize): void {
  const half = f32x4.splat(0.5);
  const plane = planeBytes(<usize>C * F);
  const zero = f32x4.splat(0);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f += 4) {
      const full = f + 4 <= F, lanes = min(4, F - f);
      const s = du + ((<usize>c * F + f) << 2);
      // s = Gᵀ du (3x4), column by column: rows 1 and 2 of du enter as their half-sum and half-difference.
      const h0 = f32x4.mul(half, f32x4.add(mload(s, 4, plane, full, lanes, zero), mload(s, 8, plane, full, lanes, zero))), h1 = f32x4.mul(half, f32x4.add(mload(s, 5, plane, full, lanes, zero), mload(s, 9, plane, full, lanes, zero)));
      const h2 = f32x4.mul(half, f32x4.add(mload(s, 6, plane, full, lanes, zero), mload(s, 10, plane, full, lanes, zero))), h3 = f32x4.mul(half, f32x4.add(mload(s, 7, plane, full, lanes, zero), mload(s, 11, plane, full, lanes, zero)));
      kernelAdjointRow(f32x4.add(mload(s, 0, plane, full, lanes, zero), h0), f32x4.add(mload(s, 1, plane, full, lanes, zero), h1), f32x4.add(mload(s, 2, plane, full, lanes, zero), h2), f32x4.add(mload(s, 3, plane, full, lanes, zero), h3), half, dw, 0, c, f, C, F, accumulate, full, lanes);
      kernelAdjointRow(f32x4.mul(half, f32x4.sub(mload(s, 4, plane, full, lanes, zero), mload(s, 8, plane, full, lanes, zero))), f32x4.mul(half, f32x4.sub(mload(s, 5, plane, full, lanes, zero), mload(s, 9, plane, full, lanes, zero))),
        f32x4.mul(half, f32x4.sub(mload(s, 6, plane, full, lanes, zero), mload(s, 10, plane, full, lanes, zero))), f32x4.mul(half, f32x4.sub(mload(s, 7, plane, full, lanes, zero), mload(s, 11, plane, full, lanes, zero))), half, dw, 1, c, f, C, F, accumulate, full, lanes);
      kernelAdjointRow(f32x4.add(h0, mload(s, 12, plane, full, lanes, zero)), f32x4.add(h1, mload(s, 13, plane, full, lanes, zero)), f32x4.add(h2, mload(s, 14, plane, full, lanes, zero)), f32x4.add(h3, mload(s, 15, plane, full, lanes, zero)), half, dw, 2, c, f, C, F, accumulate, full, lanes);
    }
  }
}

// dw[kh, 0..2, c, f..f+4) (+)= (r0 r1 r2 r3) G.
@inline function kernelAdjointRow(r0: v128, r1: v128, r2: v128, r3: v128, half: v128, dw: usize, kh: i32, c: i32, f: i32, C: i32, F: i32, accumulate: bool, full: bool, lanes: i32): void {
  const sum = f32x4.mul(half, f32x4.add(r1, r2));
  const g0 = f32x4.add(r0, sum), g1 = f32x4.mul(half, f32x4.sub(r1, r2)), g2 = f32x4.add(sum, r3);
  const zero = f32x4.splat(0);
  const p0 = dw + ((<usize>(kh * 3 * C + c) * F + f) << 2);
  const step = (<usize>C * F) << 2; // one kw further
  const p1 = p0 + step, p2 = p1 + step;
  storeLanes(p0, accumulate ? f32x4.add(cell(p0, 1, 0, zero, full, lanes), g0) : g0, full, lanes);
  storeLanes(p1, accumulate ? f32x4.add(cell(p1, 1, 0, zero, full, lanes), g1) : g1, full, lanes);
  storeLanes(p2, accumulate ? f32x4.add(cell(p2, 1, 0, zero, full, lanes), g2) : g2, full, lanes);
}

// dw [3,3,C,F] (+)= gradient of sum(y * dy) with respect to w for the stride-1 3x3 convolution
// above, and db [F] (+)= column sums of dy (b = 0: no bias); `accumulate` adds instead of writing.
export function conv2d_winograd_backward_kernel(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, H: i32, W: i32, C: i32, F: i32, padT: i32, padL: i32, OH: i32, OW: i32, accumulate: bool, tile: i32, scratch: usize, ws: usize,
): void {
  const tilesH = tilesAlong(OH, tile), tilesW = tilesAlong(OW, tile);
  const T = N * tilesH * tilesW, P = (tile + 2) * (tile + 2);
  const buf = scratch, du = scratch + WINOGRAD_BUFFER_BYTES;
  const v = du + <usize>P * planeBytes(<usize>C * F);
  const m = v + <usize>P * planeBytes(<usize>T * C);
  inputTransform(x, N, H, W, C, padT, padL, tilesH, tilesW, v, tile, buf);
  if (tile == 4) winograd4x4_output_transform_adjoint(dy, N, OH, OW, F, tilesH, tilesW, m, buf);
  else winograd_output_transform_adjoint(dy, N, OH, OW, F, tilesH, tilesW, m);
  for (let xi = 0; xi < P; xi++) {
    // du[ξ] [C, F] = v[ξ]ᵀ · m[ξ]: v's [T, C] plane read transposed.
    sgemm(C, F, T, v + <usize>xi * planeBytes(<usize>T * C), 1, C, m + <usize>xi * planeBytes(<usize>T * F), F, 1,
      du + <usize>xi * planeBytes(<usize>C * F), F, false, ws);
  }
  if (tile == 4) winograd4x4_kernel_transform_adjoint(du, C, F, accumulate, dw, buf);
  else winograd_kernel_transform_adjoint(du, C, F, accumulate, dw);
  if (db != 0) col_sum(dy, N * OH * OW, F, db, accumulate);
}
