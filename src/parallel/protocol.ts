// What the main thread sends a worker for one shard of one step. Everything lives in the one
// shared memory; the message carries only offsets and the (cached) means to rebuild the model.

import type { KernelVariant } from '../kernels/index.js';
import type { ModelConfig } from '../models/config.js';
import type { OptimizerUpdate } from '../training/optimizers.js';

// Fixed for the life of an engine: where everything is. Workers cache what they build from it.
export interface EngineLayout {
  engineId: string;
  memory: WebAssembly.Memory;
  variant: KernelVariant;
  config: ModelConfig;
  params: number;
  grads: number;               // the reduced gradient
  shardGrads: number[];        // each shard's own gradient vector
  slots: number[];             // optimizer state vectors
  trainableFloats: number;
  regions: number[];           // each shard's activation region
  workspaces: number[];        // each shard's GEMM workspace
  probs: number[];             // each shard's softmax scratch (rows x classes)
  syncSlots: number[];         // byte offset of each reducer slot
  syncWidths: number[];
  barrier: number;             // byte offset of the barrier words
  progress: number;            // byte offset of one Int32 per shard: the node it is running
  batchX: number;              // the batch's inputs, rows x features
  batchY: number;              // the batch's labels, rows x classes
  batchOut: number;            // the batch's outputs, written by the shards
  fusedSoftmax: boolean;
  barrierTimeoutMs: number;
}

export interface StepTask {
  layout: EngineLayout;
  mode: 'train' | 'predict';
  shard: number;
  shards: number;              // shards taking part in this step
  start: number;               // first row of this shard in the batch
  rows: number;
  totalRows: number;
  update: OptimizerUpdate | null;
}

export interface StepReply {
  loss: number;                // the whole batch's loss (training), identical on every shard
}

export const LOSS_SLOT_WIDTH = 1;
