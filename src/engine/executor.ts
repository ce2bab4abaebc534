// One shard of one step: the buffers of every layer at the places the StepPlan gives them, and
// each layer's forward and backward on them. The shard step (shard-step.ts) drives the
// executors of all the shards a thread holds, layer by layer, so that their reductions meet.

import type { KernelExports } from '../kernels/index.js';
import type { LayerBuffers, StepContext, StepWork, SumRequest } from '../layers/layer.js';
import type { Graph } from './graph.js';
import type { ParamLayout } from './param-layout.js';
import type { StepPlan } from './step-plan.js';

export interface ShardMemory {
  region: number;     // byte offset of this shard's activation region (plan.bytes long)
  params: number;     // byte offset of the parameter vector
  grads: number;      // byte offset of this shard's gradient vector (trainable floats), 0 if none
  gemmWorkspace: number;
  kernels: Record<string, string>; // per layer name: its chosen kernel
  scratch?: number;   // byte offset of a scratch of this thread's own, instead of the region's (split steps)
}

export interface ShardPosition {
  totalRows: number;  // samples in the whole batch
  firstRow: number;   // this shard's first sample in the batch
  step: number;       // the training step's number (seeds Dropout)
  updatesSharedState: boolean;
  slice?: { index: number; count: number }; // this thread's share of a split step (StepContext.slice)
}

type Work = Generator<SumRequest, void, void>;

// Runs a layer call as a generator whether or not the layer's method is one.
function* asWork(w: StepWork): Work {
  if (w) yield* w;
}

export class Executor {
  private readonly buffers: LayerBuffers[];
  private readonly folded: boolean[];
  private readonly ctx: { -readonly [K in keyof StepContext]: StepContext[K] };
  private written: boolean[] = [];

  constructor(
    readonly graph: Graph, readonly layout: ParamLayout, readonly plan: StepPlan,
    private readonly k: KernelExports, readonly mem: ShardMemory, position: ShardPosition,
  ) {
    const r = (off: number) => (off >= 0 ? mem.region + off : 0);
    this.ctx = { k, gemmWorkspace: mem.gemmWorkspace, kernels: mem.kernels, scratch: mem.scratch ?? r(plan.scratch), training: plan.training, rows: plan.rows, ...position };
    this.folded = graph.foldedRelus();
    this.buffers = graph.nodes.map((n, i) => ({
      inputs: n.inputs.map((j) => r(plan.activation[j])),
      output: r(plan.activation[i]),
      state: r(plan.state[i]),
      dOutput: r(plan.gradient[i]),
      dInputs: n.inputs.map((j) => r(plan.gradient[j])),
      weights: layout.placeOf[i].map((s) => mem.params + 4 * s.offset),
      grads: layout.placeOf[i].map((s) => (s.weight.trainable && mem.grads ? mem.grads + 4 * s.offset : 0)),
      firstReduction: plan.firstReduction[i],
      gradIsLogits: false,
      inputRelu: n.inputs.length === 1 && this.folded[n.inputs[0]],
    }));
    for (const c of plan.epilogues) {
      const [gamma, beta, movingMean, movingVariance] = this.buffers[c.batchNorm].weights;
      const stage = (j: number | undefined) => (j === undefined ? undefined : graph.nodes[j].layer.epilogueStage());
      const bn = stage(c.batchNorm), clamp = stage(c.clamp);
      this.buffers[c.producer].epilogue = {
        gamma, beta, movingMean, movingVariance,
        epsilon: bn?.kind === 'batchNorm' ? bn.epsilon : 0,
        residual: c.residual === undefined ? 0 : r(plan.activation[c.residual]),
        lo: clamp?.kind === 'clamp' ? clamp.lo : -Infinity,
        hi: clamp?.kind === 'clamp' ? clamp.hi : Infinity,
      };
    }
  }

  /** The step number changes every step; the rest of the position is fixed per executor. */
  set step(step: number) { this.ctx.step = step; }
  set movingMomentum(m: number | undefined) { this.ctx.movingMomentum = m; }

  get inputPtr(): number { return this.buffers[this.graph.inputNode].output; }
  get outputPtr(): number { return this.buffers[this.graph.outputNode].output; }
  /** Where the loss writes the gradient of the model output (or of its logits). */
  get outputGradPtr(): number { return this.buffers[this.graph.outputNode].dOutput; }
  /** The logits of a softmax output layer, or 0 when the output is not a softmax. */
  get logitsPtr(): number { return this.graph.outputLayer.logitsOf(this.buffers[this.graph.outputNode]); }

  /**
   * A folded ReLU (Graph.foldedRelus) runs nothing: its reader applies it; nor does a layer of an
   * epilogue chain (StepPlan.fusedInto): the chain's producer applies it.
   */
  forwardNode(i: number): Work {
    if (this.runsNothing(i)) return asWork(undefined);
    return asWork(this.graph.nodes[i].layer.forward(this.ctx, this.buffers[i]));
  }

  /**
   * How node i's forward runs in a split step: not at all (folded or fused into another layer),
   * on every thread, each computing its share of the output channels, or on the first thread alone.
   */
  forwardRuns(i: number): 'none' | 'split' | 'single' {
    if (this.runsNothing(i)) return 'none';
    return this.graph.nodes[i].layer.splitsOutputChannels(this.ctx, this.buffers[i]) ? 'split' : 'single';
  }

  private runsNothing(i: number): boolean {
    return this.folded[i] || this.plan.fusedInto[i] >= 0;
  }

  /** Before the first backwardNode: `gradIsLogits` when the loss wrote the logits' gradient. */
  startBackward(gradIsLogits: boolean): void {
    this.written = new Array<boolean>(this.graph.nodes.length).fill(false);
    this.buffers[this.graph.outputNode].gradIsLogits = gradIsLogits;
  }

  /** Whether node i computes a gradient at all. */
  hasBackward(i: number): boolean {
    return this.buffers[i].dOutput !== 0;
  }

  *backwardNode(i: number): Work {
    const node = this.graph.nodes[i];
    const b = this.buffers[i];
    if (this.folded[i]) {
      // Its reader wrote the gradient of its input (the same buffer) already.
      this.written[node.inputs[0]] = true;
      return;
    }
    // A tensor read by several layers collects their gradients: the first to run backward
    // writes it, the later ones write to their input position's temp and add that in.
    const dInputs = b.dInputs;
    const temps = this.plan.gradTemps;
    b.dInputs = dInputs.map((d, k) => (d && this.written[node.inputs[k]] ? this.mem.region + temps[k] : d));
    try {
      yield* asWork(node.layer.backward(this.ctx, b));
    } finally {
      b.dInputs = dInputs;
    }
    for (const [k, j] of node.inputs.entries()) {
      if (!dInputs[k]) continue;
      if (this.written[j]) this.k.add_to(dInputs[k], this.mem.region + temps[k], this.plan.rows * this.size(j));
      this.written[j] = true;
    }
  }

  private size(node: number): number {
    return this.graph.nodes[node].layer.outputShape.reduce((a, b) => a * b, 1);
  }
}
