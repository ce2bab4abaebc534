// Runs one model step over one share of a batch: forward through the layers in order, then
// (training) backward in reverse, with every buffer at the place its StepPlan gives it.
// The same executor serves a single thread and each worker of the parallel trainer; they
// differ only in their region, their gradient vector and the SumReducer.

import type { KernelExports } from '../kernels/index.js';
import type { LayerBuffers, StepContext, SumReducer } from '../layers/layer.js';
import type { Graph } from './graph.js';
import type { ParamLayout } from './param-layout.js';
import type { StepPlan } from './step-plan.js';

export interface ExecutorMemory {
  region: number;     // byte offset of this executor's activation region (plan.bytes long)
  params: number;     // byte offset of the parameter vector
  grads: number;      // byte offset of this executor's gradient vector (trainable floats), 0 if none
  gemmWorkspace: number;
}

export const singleWorker: SumReducer = { allReduce() { /* one worker holds the whole batch */ } };

export class Executor {
  private readonly buffers: LayerBuffers[];
  private readonly ctx: StepContext;
  // Called before each layer runs, so that a failure can name the layer.
  private readonly trace?: (node: number, backward: boolean) => void;

  constructor(
    readonly graph: Graph, readonly layout: ParamLayout, readonly plan: StepPlan,
    private readonly k: KernelExports, readonly mem: ExecutorMemory,
    options: { totalRows: number; reducer: SumReducer; updatesSharedState: boolean; trace?: (node: number, backward: boolean) => void },
  ) {
    this.trace = options.trace;
    const r = (off: number) => (off >= 0 ? mem.region + off : 0);
    this.ctx = {
      k, gemmWorkspace: mem.gemmWorkspace, scratch: r(plan.scratch), training: plan.training,
      rows: plan.rows, totalRows: options.totalRows, reducer: options.reducer, updatesSharedState: options.updatesSharedState,
    };
    this.buffers = graph.nodes.map((n, i) => ({
      inputs: n.inputs.map((j) => r(plan.activation[j])),
      output: r(plan.activation[i]),
      state: r(plan.state[i]),
      dOutput: r(plan.gradient[i]),
      dInputs: n.inputs.map((j) => r(plan.gradient[j])),
      weights: layout.slotOf[i].map((s) => mem.params + 4 * s.offset),
      grads: layout.slotOf[i].map((s) => (s.weight.trainable && mem.grads ? mem.grads + 4 * s.offset : 0)),
      syncSlot: plan.syncSlot[i],
      gradIsLogits: false,
    }));
  }

  get inputPtr(): number { return this.buffers[this.graph.inputNode].output; }
  get outputPtr(): number { return this.buffers[this.graph.outputNode].output; }
  // Where the loss writes the gradient of the model output (or of its logits).
  get outputGradPtr(): number { return this.buffers[this.graph.outputNode].dOutput; }

  // The logits of a softmax output layer, or 0 when the output is not a softmax.
  get logitsPtr(): number {
    return this.graph.nodes[this.graph.outputNode].layer.logitsOf(this.buffers[this.graph.outputNode]);
  }

  forward(): void {
    for (const [i, n] of this.graph.nodes.entries()) {
      this.trace?.(i, false);
      n.layer.forward(this.ctx, this.buffers[i]);
    }
  }

  // Backward from the gradient at outputGradPtr; `gradIsLogits` when it is the logits' gradient.
  backward(gradIsLogits: boolean): void {
    const nodes = this.graph.nodes;
    const written = new Array<boolean>(nodes.length).fill(false);
    const temp = this.plan.gradTemp >= 0 ? this.mem.region + this.plan.gradTemp : 0;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const b = this.buffers[i];
      if (!b.dOutput) continue;
      b.gradIsLogits = i === this.graph.outputNode && gradIsLogits;
      // A tensor read by several layers collects their gradients: the first writes, the rest add.
      const dInputs = b.dInputs;
      const redirected = dInputs.map((d, k) => (d && written[nodes[i].inputs[k]] ? temp : d));
      b.dInputs = redirected;
      this.trace?.(i, true);
      nodes[i].layer.backward(this.ctx, b);
      b.dInputs = dInputs;
      for (const [k, j] of nodes[i].inputs.entries()) {
        if (!dInputs[k]) continue;
        if (written[j]) this.k.add_to(dInputs[k], temp, this.plan.rows * this.size(j));
        written[j] = true;
      }
    }
  }

  private size(node: number): number {
    return this.graph.nodes[node].layer.outputShape.reduce((a, b) => a * b, 1);
  }
}
