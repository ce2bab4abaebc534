// The memory plan of one step (forward, or forward + loss + backward) for a given number of
// samples: byte offsets, relative to the start of a region, of every activation, gradient,
// per-layer state and scratch buffer. Made once per batch size and reused every step.
//
// Time runs forward through nodes 0..L-1, the loss at L, backward through nodes L-1..0 at
// 2L-i. A buffer lives from its first to its last use; gradients are freed as soon as their
// producer has consumed them, activations nobody saves for backward as soon as they are read.

import { sizeOf } from '../layers/layer.js';
import type { EpilogueChain, Graph } from './graph.js';
import { packIntervals, type Interval } from './interval-packing.js';

export interface StepPlan {
  readonly rows: number;
  readonly training: boolean;
  readonly activation: number[]; // per node output
  readonly gradient: number[];   // per node output, -1 where no gradient is computed
  readonly state: number[];      // per node, -1 where the layer keeps none
  /**
   * gradTemps[k]: where input k of a layer writes its gradient when that tensor already holds
   * the gradient from another consumer (which then adds it): one per input position.
   */
  readonly gradTemps: number[];
  readonly scratch: number;
  readonly scratchBytes: number;     // the largest scratch of any layer
  readonly firstReduction: number[]; // per node: the first of the step's reductions it may request
  readonly reductions: number;       // reductions the layers request per step
  readonly bytes: number;            // size of the region
  /** Inference with fused epilogues: the chains (Graph.inferenceEpilogues), else none. */
  readonly epilogues: EpilogueChain[];
  /** Per node: the producer whose epilogue runs it (it runs nothing itself), -1 if none. */
  readonly fusedInto: number[];
}

/** `fuseEpilogues`: an inference plan runs each epilogue chain as one pass (ignored in training). */
export function planStep(graph: Graph, rows: number, training: boolean, fuseEpilogues = false): StepPlan {
  const L = graph.nodes.length;
  const bwd = (i: number) => 2 * L - i;
  const items: Interval[] = [];
  const add = (bytes: number, first: number, last: number) => (items.push({ bytes, first, last }), items.length - 1);
  const needsGrad = graph.needsGrad();

  const folded = graph.foldedRelus();
  const { chains, fusedInto } = !training && fuseEpilogues ? graph.inferenceEpilogues() : { chains: [], fusedInto: graph.nodes.map(() => -1) };
  const actItem: number[] = [], gradItem: number[] = [], stateItem: number[] = [];
  for (const [i, n] of graph.nodes.entries()) {
    const layer = n.layer;
    const bytes = rows * sizeOf(layer.outputShape) * 4;
    let last = i;
    for (const c of n.consumers) {
      last = Math.max(last, c);
      if (training && graph.nodes[c].layer.needsInputsForBackward()) last = Math.max(last, bwd(c));
    }
    // The loss reads the model output, or the logits that a softmax output layer was fed.
    if (i === graph.outputNode || (training && n.consumers.includes(graph.outputNode))) last = Math.max(last, L);
    // A layer of an epilogue chain writes nothing: the chain's producer writes the tail's value
    // into its own output, which every node of the chain shares until the tail's last reader.
    if (fusedInto[i] >= 0) {
      const p = fusedInto[i];
      actItem[i] = actItem[p];
      items[actItem[p]].last = Math.max(items[actItem[p]].last, last);
      gradItem[i] = -1;
      stateItem[i] = -1;
      continue;
    }
    // A folded ReLU's output is its input's buffer, and its gradient its input's gradient, for
    // as long as either is read (its reader writes that gradient first, at its own backward).
    if (folded[i]) {
      const src = n.inputs[0];
      actItem[i] = actItem[src];
      items[actItem[src]].last = Math.max(items[actItem[src]].last, last);
      gradItem[i] = gradItem[src];
      if (gradItem[src] >= 0) items[gradItem[src]].first = Math.min(items[gradItem[src]].first, ...n.consumers.map(bwd));
      stateItem[i] = -1;
      continue;
    }
    if (training && layer.needsOutputForBackward()) last = Math.max(last, bwd(i));
    actItem[i] = add(bytes, i, last);

    gradItem[i] = -1;
    if (training && needsGrad[i] && i !== graph.inputNode) {
      // Written by the first consumer to run backward (or the loss), read by this node's backward.
      const first = i === graph.outputNode ? L : Math.min(...n.consumers.map(bwd));
      gradItem[i] = add(bytes, first, bwd(i));
    }
    const sb = layer.stateBytes(rows, training);
    stateItem[i] = sb > 0 ? add(sb, i, training ? bwd(i) : i) : -1;
  }

  // A tensor read by several layers may be redirected to a temp in whichever input position it
  // has in a later consumer: size each position's temp for the largest such tensor.
  const gradTempBytes: number[] = [];
  let scratchBytes = 0;
  for (const n of graph.nodes) {
    for (const [k, j] of n.inputs.entries()) {
      if (gradItem[j] >= 0 && graph.nodes[j].consumers.length > 1) gradTempBytes[k] = Math.max(gradTempBytes[k] ?? 0, items[gradItem[j]].bytes);
    }
    scratchBytes = Math.max(scratchBytes, n.layer.scratchBytes(rows, training));
  }
  const gradTempItems = Array.from(gradTempBytes, (b) => (b ? add(b, L, 2 * L) : -1));
  const scratchItem = add(scratchBytes, 0, 2 * L);

  const { offsets, total } = packIntervals(items);
  const at = (item: number) => (item >= 0 ? offsets[item] : -1);
  const firstReduction: number[] = [];
  let reductions = 0;
  for (const n of graph.nodes) {
    firstReduction.push(reductions);
    reductions += n.layer.reductions();
  }
  return {
    rows, training,
    activation: actItem.map(at),
    gradient: gradItem.map(at),
    state: stateItem.map(at),
    gradTemps: gradTempItems.map(at),
    scratch: at(scratchItem),
    scratchBytes,
    firstReduction,
    reductions,
    bytes: total,
    epilogues: chains,
    fusedInto,
  };
}
