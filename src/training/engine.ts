// What the training loop needs from whatever runs the steps: one thread or a pool of workers.

import type { OptimizerUpdate } from './optimizers.js';

export interface Batch {
  x: Float32Array;      // rows x input features
  y?: Float32Array;     // rows x classes (training)
  rows: number;
}

export interface TrainResult {
  loss: number;         // mean over the batch
  outputs: Float32Array; // the model outputs (rows x classes), copied out
}

export interface StepEngine {
  readonly threads: number;
  // Set once a step failed in a way that left the engine unusable (a dead worker).
  readonly failed?: boolean;
  // Forward and backward over the batch; leaves the batch's gradient in the model's gradient
  // vector, then applies `update` to the trainable parameters unless it is null.
  trainStep(batch: Batch, update: OptimizerUpdate | null): Promise<TrainResult>;
  // Inference-mode forward; returns the outputs.
  predictStep(batch: Batch): Promise<Float32Array>;
  dispose(): Promise<void>;
}

// A step whose loss is NaN or infinite: the engine applies no update and throws this.
export class NonFiniteLossError extends Error {
  constructor(loss: number) { super(String(loss)); }
}
