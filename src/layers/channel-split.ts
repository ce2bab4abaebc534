// How one image's layers share their output channels between threads (StepContext.slice).

/**
 * The least work (multiply-adds of the shard) for which a layer splits its channels between
 * threads: below it, the barriers on both sides cost about what the second thread saves.
 * Measured on one 64x64 image through ResNet-50 on the 2-core Zen 4 (docs/performance.md):
 * 2 million (17.3 ms, median of nine rounds) against no minimum (20.4 ms).
 */
export const SPLIT_MIN_MULTIPLY_ADDS = 2_000_000;

/**
 * Output channels [f0, f1) of C for share `index` of `count` (StepContext.slice): multiples of 8,
 * the GEMM's panel width, so that no two threads write one panel.
 */
export function channelShare(C: number, index: number, count: number): [number, number] {
  const per = Math.ceil(C / count / 8) * 8;
  return [Math.min(C, index * per), Math.min(C, (index + 1) * per)];
}
