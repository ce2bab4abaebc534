// Which algorithm a convolution runs. im2col + GEMM serves every shape. Winograd F(2x2, 3x3)
// needs 2.25x fewer multiplies for a 3x3 stride-1 convolution but pays for its transforms and
// for 16 smaller GEMMs, which lose where maps are small and channels many (res5's 2x2 maps).
// F(4x4, 3x3) needs 4x fewer, with larger transforms, 36 GEMMs of a quarter of the rows, and
// more rounding; on maps under 4x4 most of each tile would be dropped, so it is not tried there.
// A direct convolution (assembly/conv-direct.ts) skips the im2col copy of a layer with a small
// window or few input channels (the ConvNet's first layers, ResNet-50's conv1).
// So the choice is measured on the machine, per shape, the first time the shape is seen (as
// XNNPACK picks per platform), and kept in a cache file so the next process does not measure
// again (tuning-cache.ts). SIMDNET_CONV_ALGORITHM or setConvAlgorithm() forces one algorithm everywhere.

import { platform } from '#platform';
import { ArgumentError, describe } from '../errors.js';
import { isPointwise } from './padding.js';
import { cached, machineKey, remember } from './tuning-cache.js';
import type { Runtime } from './index.js';
import { localKernels } from './wasm.js';

/** How a convolution runs: im2col + GEMM, Winograd F(2x2,3x3) or F(4x4,3x3), or the direct kernel. */
export type ConvAlgorithm = 'im2col' | 'winograd' | 'winograd4x4' | 'direct';
/** A forced algorithm, or 'auto': measured per layer shape on this machine (the default). */
export type ConvAlgorithmChoice = ConvAlgorithm | 'auto';
const CHOICES: readonly ConvAlgorithmChoice[] = ['auto', 'im2col', 'winograd', 'winograd4x4', 'direct'];

/** One convolution pass's geometry (Keras layouts; padding as explicit top/left amounts). */
export interface ConvGeometry {
  N: number; H: number; W: number; C: number; F: number; KH: number; KW: number;
  stride: number; padT: number; padL: number; OH: number; OW: number;
}

export function winogradApplies(g: ConvGeometry): boolean {
  return g.KH === 3 && g.KW === 3 && g.stride === 1;
}

export function winograd4x4Applies(g: ConvGeometry): boolean {
  return winogradApplies(g) && Math.min(g.OH, g.OW) >= 4;
}

/** The output tile of a Winograd algorithm: F(2x2, 3x3) or F(4x4, 3x3). */
export function winogradTile(algorithm: 'winograd' | 'winograd4x4'): number {
  return algorithm === 'winograd4x4' ? 4 : 2;
}

/**
 * A window of at most 64 cells (kh, kw, c), whose im2col copy would dwarf its GEMM, or of at most
 * four input channels (a first layer on images: ResNet-50's conv1, 7x7x3, measured 20% faster
 * forward and 10% faster to the kernel than im2col), and filters in fours (the vector width).
 */
export function directApplies(g: ConvGeometry): boolean {
  return (g.KH * g.KW * g.C <= 64 || g.C <= 4) && g.F % 4 === 0;
}

// The algorithms that can run geometry `g`, im2col first.
function candidates(g: ConvGeometry): ConvAlgorithm[] {
  return [
    'im2col', ...(winogradApplies(g) ? ['winograd' as const] : []), ...(winograd4x4Applies(g) ? ['winograd4x4' as const] : []),
    ...(directApplies(g) ? ['direct' as const] : []),
  ];
}

let forced: ConvAlgorithmChoice | undefined;

/**
 * Forces the algorithm of convolutions that can run it: 'im2col' (all), 'winograd' (F(2x2, 3x3):
 * 3x3 stride 1), 'winograd4x4' (F(4x4, 3x3): 3x3 stride 1, outputs of at least 4x4) or 'direct'
 * (at most 64 window cells or 4 input channels, filters in fours), overriding SIMDNET_CONV_ALGORITHM;
 * 'auto' goes back to the default: SIMDNET_CONV_ALGORITHM if set, else measured per shape.
 * Applies to steps laid out after the call (a model's first step, or a larger batch than before).
 */
export function setConvAlgorithm(choice: ConvAlgorithmChoice): void {
  if (!CHOICES.includes(choice)) throw new ArgumentError(`conv algorithm must be ${CHOICES.join(', ')}, got ${describe(choice)}`);
  forced = choice;
}

function requested(): ConvAlgorithmChoice {
  if (forced && forced !== 'auto') return forced;
  const env = platform.setting('SIMDNET_CONV_ALGORITHM');
  if (env === undefined || env === '') return 'auto';
  if (!CHOICES.includes(env as ConvAlgorithmChoice)) throw new ArgumentError(`SIMDNET_CONV_ALGORITHM must be ${CHOICES.join(', ')}, got "${env}"`);
  return env as ConvAlgorithmChoice;
}

interface Measured { algorithm: ConvAlgorithm; ms: Partial<Record<ConvAlgorithm, number>> }

const shapeKey = (g: ConvGeometry) =>
  `${g.N}x${g.H}x${g.W}x${g.C} k${g.KH}x${g.KW}/${g.stride} ->${g.F} pad ${g.padT},${g.padL} out ${g.OH}x${g.OW}`;

/**
 * The algorithm for a convolution of geometry `g` on this machine: im2col unless another one
 * applies and measured at least 5% faster over the three passes of a training step.
 */
export function chooseConvAlgorithm(rt: Runtime, g: ConvGeometry): ConvAlgorithm {
  const options = candidates(g);
  if (options.length === 1) return 'im2col';
  const want = requested();
  if (want !== 'auto') return options.includes(want) ? want : 'im2col';
  const machine = machineKey(rt.variant), key = shapeKey(g);
  const known = cached<Measured>(machine, 'conv', key);
  if (known && options.includes(known.algorithm)) return known.algorithm;
  const ms = measure(rt, g, options);
  let algorithm: ConvAlgorithm = 'im2col';
  for (const a of options) if (ms[a]! < 0.95 * ms.im2col! && ms[a]! < ms[algorithm]!) algorithm = a;
  const kept = remember<Measured>(machine, 'conv', key, { algorithm, ms }).algorithm;
  return options.includes(kept) ? kept : algorithm;
}

/** Bytes of scratch any algorithm for geometry `g` needs (0 for a pointwise convolution). */
export function convScratchBytes(g: ConvGeometry, pointwise: boolean): number {
  let bytes = pointwise ? 0 : g.N * g.OH * g.OW * g.KH * g.KW * g.C * 4;
  if (winogradApplies(g)) bytes = Math.max(bytes, winogradScratchBytes(g, 2));
  if (winograd4x4Applies(g)) bytes = Math.max(bytes, winogradScratchBytes(g, 4));
  if (directApplies(g)) bytes = Math.max(bytes, directScratchBytes(g));
  return bytes;
}

/**
 * The zero-padded copy of x that assembly/conv-direct.ts makes when a window reaches outside x
 * (none otherwise) and its kernel gradient's list of one image's pixels, as the kernel module
 * computes them.
 */
export function directScratchBytes(g: ConvGeometry): number {
  return localKernels().k.conv2d_direct_scratch_bytes(g.N, g.H, g.W, g.C, g.KH, g.KW, g.stride, g.padT, g.padL, g.OH, g.OW);
}

/**
 * The scratch of assembly/winograd.ts's passes with output tiles of `tile` (2 or 4), as the kernel
 * module lays it out (assembly/winograd-planes.ts).
 */
export function winogradScratchBytes(g: ConvGeometry, tile: number): number {
  return localKernels().k.winograd_scratch_bytes(g.N, g.H, g.W, g.C, g.F, g.OH, g.OW, tile);
}

// Median-of-three milliseconds of a forward, backward-to-input and backward-to-kernel pass by
// each algorithm, on scratch memory from the runtime's arena (freed before returning).
function measure(rt: Runtime, g: ConvGeometry, options: ConvAlgorithm[]): Partial<Record<ConvAlgorithm, number>> {
  const k = rt.k;
  const mark = rt.arena.mark();
  try {
    const wn = g.KH * g.KW * g.C * g.F;
    const x = rt.arena.allocF32(g.N * g.H * g.W * g.C), w = rt.arena.allocF32(wn);
    const y = rt.arena.allocF32(g.N * g.OH * g.OW * g.F), dw = rt.arena.allocF32(wn);
    const scratch = rt.arena.alloc(Math.max(4, convScratchBytes(g, false)));
    // Small values: the timings must not meet denormals or infinities.
    rt.f32(x, g.N * g.H * g.W * g.C).fill(0.01);
    rt.f32(w, wn).fill(0.01);
    rt.f32(y, g.N * g.OH * g.OW * g.F).fill(0.01);
    const geo = [g.N, g.H, g.W, g.C, g.KH, g.KW, g.F, g.stride, g.padT, g.padL, g.OH, g.OW] as const;
    // A pointwise convolution reads x as its GEMM matrix: no im2col (the kernels take cols = 0).
    const cols = isPointwise(g.KH, g.KW, g.stride, g.padT, g.padL) ? 0 : scratch;
    const wgeo = [g.N, g.H, g.W, g.C, g.F, g.padT, g.padL, g.OH, g.OW] as const;
    const winograd = (tile: number) => {
      k.conv2d_winograd_forward(x, w, 0, y, ...wgeo, tile, scratch, rt.gemmWorkspace);
      k.conv2d_winograd_backward_input(y, w, x, ...wgeo, tile, scratch, rt.gemmWorkspace);
      k.conv2d_winograd_backward_kernel(x, y, dw, 0, ...wgeo, 0, tile, scratch, rt.gemmWorkspace);
    };
    const runs: Record<ConvAlgorithm, () => void> = {
      im2col: () => {
        k.conv2d_forward(x, w, 0, y, ...geo, cols, rt.gemmWorkspace);
        k.conv2d_backward_input(y, w, x, ...geo, cols, rt.gemmWorkspace);
        k.conv2d_backward_kernel(x, y, dw, 0, ...geo, 0, cols, rt.gemmWorkspace);
      },
      winograd: () => winograd(2),
      winograd4x4: () => winograd(4),
      direct: () => {
        k.conv2d_direct_forward(x, w, 0, y, ...geo, scratch);
        k.conv2d_backward_input(y, w, x, ...geo, cols, rt.gemmWorkspace);
        k.conv2d_direct_backward_kernel(x, y, dw, 0, ...geo, 0, scratch);
      },
    };
    const times: Partial<Record<ConvAlgorithm, number[]>> = {};
    for (const a of options) { runs[a](); times[a] = []; }
    // Interleaved, so a burst of load elsewhere hits all of them.
    for (let r = 0; r < 3; r++) {
      for (const a of options) {
        const t0 = performance.now();
        runs[a]();
        times[a]!.push(performance.now() - t0);
      }
    }
    return Object.fromEntries(options.map((a) => [a, times[a]!.sort((p, q) => p - q)[1]]));
  } finally {
    rt.arena.freeSince(mark);
  }
}
