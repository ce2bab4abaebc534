// What a thread is told to run one step's share: everything lives in the model's one shared
// memory, so a task carries offsets, the step's settings and (cached by the worker) the means
// to rebuild the model.

import type { KernelVariant } from '../kernels/index.js';
import type { GemmBlocking } from '../kernels/gemm-blocking.js';
import type { OptimizerUpdate } from '../training/optimizers.js';
import type { ModelConfig } from './graph-config.js';

/**
 * Where everything is, for batches of up to `capacity` rows; fixed until the engine lays out
 * memory again (a larger batch), which gives it a new id.
 */
export interface EngineLayout {
  engineId: string;
  layoutId: string;
  memory: WebAssembly.Memory;
  variant: KernelVariant;
  config: ModelConfig;
  capacity: number;            // rows per batch
  shards: number;              // shards per full batch: workers, or the deterministic count
  threads: number;             // threads that take part in a full batch
  params: number;
  grads: number;               // the reduced gradient (of a step without an update)
  shardGrads: number[];        // each shard's own gradient vector (shardGrads[0] = grads for one shard)
  slots: number[];             // optimizer state vectors
  trainableFloats: number;
  regions: number[];           // each shard's activation region
  probs: number[];             // each shard's softmax scratch (rows x classes), then its loss (float64)
  workspaces: number[];        // each thread's GEMM workspace
  stages: number[];            // each thread's update staging area (see updateSlice)
  reductionSums: number[];     // per reduction: [shard][2][width] float64 partial sums
  reductionWidths: number[];
  barrier: number;             // byte offset of the barrier words
  progress: number;            // one Int32 per thread: where it is (see StepProgress)
  updateProgress: number;      // one Int32 per thread: how far its update went (see updateSlice)
  batchX: number;              // the batch's inputs, rows x features
  batchY: number;              // the batch's labels, rows x classes
  batchOut: number;            // the batch's outputs, written by the shards
  barrierTimeoutMs: number;
  kernels: Record<string, string>; // per layer name: its chosen kernel (Layer.chooseKernel)
  gemm: GemmBlocking;              // the GEMM blocking every thread uses
  fuseEpilogues: boolean;          // inference steps run epilogue chains as one pass (step-plan.ts)
  splitScratch: number[];          // per thread but the first: its own scratch in a split step (0 for thread 0)
}

export interface StepTask {
  layout: EngineLayout;
  mode: 'train' | 'predict' | 'statistics';
  movingMomentum?: number;     // statistics: the momentum of this step's moving-statistics update
  thread: number;              // which thread's share: its shards, workspace and slice of the update
  threads: number;             // threads taking part in this step
  totalRows: number;
  step: number;                // the training step's number (seeds Dropout)
  loss: unknown;               // the loss's serialized config (training)
  update: OptimizerUpdate | null;
  /**
   * Inference on a batch of one with several threads: every thread runs the one shard, the
   * layers that can splitting their output channels between the threads (Layer.splitsOutputChannels).
   */
  split?: boolean;
}

export interface StepReply {
  loss: number;                // the whole batch's loss (training), identical on every thread
}

/**
 * Where a thread is, in its progress word: a node's forward (node), its backward (nodes + node),
 * or one of the phases after the layers.
 */
export const StepProgress = {
  notStarted: -1,
  loss: (nodes: number) => 2 * nodes,
  reduction: (nodes: number) => 2 * nodes + 1,
  update: (nodes: number) => 2 * nodes + 2,
};
