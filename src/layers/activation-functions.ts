// Activations applied in place on a layer's output [rows, cols] (the last axis is `cols`).

import { ArgumentError, describe } from '../errors.js';
import type { StepContext } from './layer.js';

export type ActivationName = 'linear' | 'relu' | 'softmax';
const names: ActivationName[] = ['linear', 'relu', 'softmax'];

export function checkActivation(layer: string, a: unknown): ActivationName {
  if (!names.includes(a as ActivationName)) {
    throw new ArgumentError(`layer "${layer}": unknown activation ${describe(a)} (expected ${names.join(', ')})`);
  }
  return a as ActivationName;
}

/** Bytes a layer must keep to give a fused softmax cross-entropy its logits. */
export function logitsBytes(a: ActivationName, rows: number, cols: number, training: boolean): number {
  return a === 'softmax' && training ? rows * cols * 4 : 0;
}

/** y = act(y). With softmax in training, the logits are first kept at `logits` for the loss. */
export function activationForward(ctx: StepContext, a: ActivationName, y: number, rows: number, cols: number, logits = 0): void {
  if (a === 'relu') ctx.k.relu_forward(y, y, rows * cols);
  else if (a === 'softmax') {
    if (logits) ctx.k.copy(logits, y, rows * cols);
    ctx.k.softmax_forward(y, y, rows, cols);
  }
}

/**
 * dy = dy · act'(y), in place; returns dy. `gradIsLogits`: dy is already the gradient of the
 * pre-activation (a softmax fused with its cross-entropy loss).
 */
export function activationBackward(ctx: StepContext, a: ActivationName, y: number, dy: number, rows: number, cols: number,
  gradIsLogits = false): number {
  if (a === 'relu') ctx.k.relu_backward(y, dy, dy, rows * cols);
  else if (a === 'softmax' && !gradIsLogits) ctx.k.softmax_backward(y, dy, dy, rows, cols);
  return dy;
}
