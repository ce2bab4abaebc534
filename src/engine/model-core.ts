// The parts of a model that engines work on: its graph, its memory and its loss.

import type { Runtime } from '../kernels/index.js';
import type { Loss } from '../training/losses.js';
import type { ModelConfig } from './graph-config.js';
import type { Graph } from './graph.js';
import type { ParamLayout } from './param-layout.js';
import type { StepGate } from './step-gate.js';

export interface ModelCore {
  readonly graph: Graph;
  readonly config: ModelConfig;  // to rebuild the graph in worker threads
  readonly layout: ParamLayout;
  readonly runtime: Runtime;
  readonly params: number;       // byte offset of the parameter vector
  grads: number;                 // byte offset of the gradient vector (a lone shard's, or the shards' sum without an update), 0 before compile
  slots: number[];               // optimizer state vectors
  loss?: Loss;                   // set by compile
  readonly inputSize: number;    // features per sample
  readonly outputSize: number;   // outputs per sample
  readonly gate: StepGate;       // open between steps
}

/**
 * The non-trainable weights (batch norm's moving statistics), which a training forward pass
 * changes: saved before each step into one reused buffer, restored when the step is abandoned.
 */
export class NonTrainableSnapshot {
  private readonly saved: Float32Array;
  private readonly at: number;

  constructor(private readonly core: ModelCore) {
    const p = core.layout;
    this.at = core.params + 4 * p.trainableFloats;
    this.saved = new Float32Array(p.totalFloats - p.trainableFloats);
  }

  save(): void {
    this.saved.set(this.core.runtime.f32(this.at, this.saved.length));
  }

  restore(): void {
    this.core.runtime.f32(this.at, this.saved.length).set(this.saved);
  }
}
