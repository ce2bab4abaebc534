// The layer graph of a functional model: layers in an order where every layer comes after its
// inputs (the order in which they were applied), with consumer lists for the backward pass.
// Walks are iterative, so a chain of thousands of layers does not exhaust the call stack.

import { ArgumentError } from '../errors.js';
import { InputLayer } from '../layers/input.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';

/**
 * Layers an inference step runs as one pass (Graph.inferenceEpilogues): a convolution, the batch
 * norm that alone reads it, then optionally an add whose other input (`residual`) exists before
 * the convolution runs, then optionally a clipped ReLU. Node indices.
 */
export interface EpilogueChain {
  readonly producer: number;
  readonly batchNorm: number;
  readonly add?: number;
  readonly residual?: number;
  readonly clamp?: number;
}

export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: number[];    // node indices of the layer's inputs
  readonly consumers: number[]; // node indices of the layers that read this node's output
}

// Every layer `output` depends on, inputs before consumers (a depth-first post-order).
function topologicalOrder(output: Layer): Layer[] {
  const done = new Set<Layer>(), onPath = new Set<Layer>();
  const order: Layer[] = [];
  const stack: { layer: Layer; next: number }[] = [{ layer: output, next: 0 }];
  onPath.add(output);
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.next < top.layer.inbound.length) {
      const up = top.layer.inbound[top.next++].sourceLayer;
      if (done.has(up)) continue;
      if (onPath.has(up)) throw new ArgumentError(`the model graph has a cycle through layer "${up.name}"`);
      onPath.add(up);
      stack.push({ layer: up, next: 0 });
    } else {
      stack.pop();
      onPath.delete(top.layer);
      done.add(top.layer);
      order.push(top.layer);
    }
  }
  return order;
}

export class Graph {
  readonly nodes: GraphNode[];
  readonly inputNode: number;
  readonly outputNode: number;

  constructor(input: SymbolicTensor, output: SymbolicTensor) {
    const order = topologicalOrder(output.sourceLayer);
    if (!order.includes(input.sourceLayer)) {
      throw new ArgumentError(`the model output does not depend on the model input "${input.sourceLayer.name}"`);
    }
    const inputs = order.filter((l) => l instanceof InputLayer);
    if (inputs.length !== 1) {
      throw new ArgumentError(`a model needs exactly one input layer; this graph reads ${inputs.map((l) => l.name).join(', ')}`);
    }
    const names = new Set<string>();
    for (const l of order) {
      if (names.has(l.name)) throw new ArgumentError(`two layers are named "${l.name}"; layer names must be unique in a model`);
      names.add(l.name);
    }
    const index = new Map(order.map((l, i) => [l, i]));
    this.nodes = order.map((layer) => ({ layer, inputs: layer.inbound.map((t) => index.get(t.sourceLayer)!), consumers: [] as number[] }));
    for (const [i, n] of this.nodes.entries()) {
      if (new Set(n.inputs).size !== n.inputs.length) {
        throw new ArgumentError(`layer "${n.layer.name}" reads the same tensor twice, which is not supported`);
      }
      for (const j of n.inputs) this.nodes[j].consumers.push(i);
    }
    this.inputNode = index.get(input.sourceLayer)!;
    this.outputNode = index.get(output.sourceLayer)!;
  }

  /**
   * foldedRelu[j]: node j is a ReLU that its only reader applies itself (Layer.foldsInputRelu),
   * so a step skips it and its output and gradient share its input's buffers. Only where no
   * other layer, and not the loss, sees either tensor: j and its input have one reader each and
   * neither is the model output.
   */
  foldedRelus(): boolean[] {
    return this.nodes.map((n, j) => {
      if (!n.layer.computesOnlyRelu() || n.consumers.length !== 1 || n.inputs.length !== 1 || j === this.outputNode) return false;
      const src = n.inputs[0];
      return this.nodes[n.consumers[0]].layer.foldsInputRelu() && this.nodes[src].consumers.length === 1 && src !== this.outputNode;
    });
  }

  /**
   * The epilogue chains of an inference step, and fusedInto[j]: the producer of the chain that
   * node j was folded into (it runs nothing and shares the producer's output buffer), -1 if none.
   * A link is taken only where nobody else reads the tensor it consumes (one reader, not the model
   * output), so no intermediate value is ever needed; a ReLU already folded into a pooling stays.
   */
  inferenceEpilogues(): { chains: EpilogueChain[]; fusedInto: number[] } {
    const folded = this.foldedRelus();
    const fusedInto = this.nodes.map(() => -1);
    const chains: EpilogueChain[] = [];
    // The sole reader of node j, if j's output is read by nothing else.
    const soleReader = (j: number) => {
      const n = this.nodes[j];
      return n.consumers.length === 1 && j !== this.outputNode ? n.consumers[0] : -1;
    };
    for (const [p, n] of this.nodes.entries()) {
      if (!n.layer.acceptsEpilogue() || fusedInto[p] >= 0) continue;
      const bn = soleReader(p);
      if (bn < 0 || this.nodes[bn].layer.epilogueStage()?.kind !== 'batchNorm') continue;
      let chain: EpilogueChain = { producer: p, batchNorm: bn };
      let next = soleReader(bn);
      if (next >= 0 && this.nodes[next].layer.epilogueStage()?.kind === 'add') {
        const residual = this.nodes[next].inputs.find((j) => j !== bn)!;
        if (residual < p) {
          chain = { ...chain, add: next, residual };
          next = soleReader(next);
        }
      }
      if (next >= 0 && !folded[next] && this.nodes[next].layer.epilogueStage()?.kind === 'clamp') chain = { ...chain, clamp: next };
      for (const j of [chain.batchNorm, chain.add, chain.clamp]) if (j !== undefined) fusedInto[j] = p;
      chains.push(chain);
    }
    return { chains, fusedInto };
  }

  get layers(): Layer[] {
    return this.nodes.map((n) => n.layer);
  }

  get inputLayer(): Layer { return this.nodes[this.inputNode].layer; }
  get outputLayer(): Layer { return this.nodes[this.outputNode].layer; }

  /**
   * needsGrad[i]: some layer at or upstream of node i has trainable weights, so the gradient of
   * node i's output is worth computing. (The first convolution need not compute a dx.)
   */
  needsGrad(): boolean[] {
    const out: boolean[] = [];
    for (const [i, n] of this.nodes.entries()) {
      out[i] = n.layer.weights.some((w) => w.trainable) || n.inputs.some((j) => out[j]);
    }
    return out;
  }
}
