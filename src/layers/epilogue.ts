import type { Epilogue, StepContext } from './layer.js';

/**
 * Applies a fused inference epilogue to a convolution's raw output y [M, C] in place: batch norm
 * (with the convolution's bias, 0 if none, folded into its shift), the residual add and the
 * clamp, in one pass; to channels f0 to f1 only when those are this thread's share. The
 * per-channel scale and shift go to the scratch, which the convolution no longer needs and which
 * batch norm's own scratchBytes (above 8C) has sized.
 */
export function applyEpilogue(ctx: StepContext, e: Epilogue, y: number, M: number, C: number, bias: number, f0 = 0, f1 = C): void {
  const n = f1 - f0, at = 4 * f0;
  if (n <= 0) return;
  const scale = ctx.scratch, shift = scale + 4 * n;
  ctx.k.bn_fold_coefficients(e.gamma + at, e.beta + at, e.movingMean + at, e.movingVariance + at, e.epsilon, bias ? bias + at : 0, n, scale, shift);
  ctx.k.affine_epilogue(y + at, M, n, C, scale, shift, e.residual ? e.residual + at : 0, e.lo, e.hi);
}
