import type { Epilogue, StepContext } from './layer.js';

/**
 * Applies a fused inference epilogue to a convolution's raw output y [M, C] in place: batch norm
 * (with the convolution's bias, 0 if none, folded into its shift), the residual add and the
 * clamp, in one pass. The per-channel scale and shift go to the scratch, which the convolution
 * no longer needs and which batch norm's own scratchBytes (above 8C) has sized.
 */
export function applyEpilogue(ctx: StepContext, e: Epilogue, y: number, M: number, C: number, bias: number): void {
  const scale = ctx.scratch, shift = scale + 4 * C;
  ctx.k.bn_fold_coefficients(e.gamma, e.beta, e.movingMean, e.movingVariance, e.epsilon, bias, C, scale, shift);
  ctx.k.affine_epilogue(y, M, C, scale, shift, e.residual, e.lo, e.hi);
}
