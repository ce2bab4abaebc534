// The layer graph of a functional model: layers in an order where every layer comes after its
// inputs (the order in which they were applied), with consumer lists for the backward pass.

import { InputLayer } from '../layers/input.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';

export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: number[];    // node indices of the layer's inputs
  readonly consumers: number[]; // node indices of the layers that read this node's output
}

export class Graph {
  readonly nodes: GraphNode[];
  readonly inputNode: number;
  readonly outputNode: number;

  constructor(input: SymbolicTensor, output: SymbolicTensor) {
    // Collect every layer that the output depends on.
    const seen = new Set<Layer>();
    const order: Layer[] = [];
    const visit = (layer: Layer, path: Set<Layer>) => {
      if (seen.has(layer)) return;
      if (path.has(layer)) throw new Error(`simdnet: the model graph has a cycle through layer "${layer.name}"`);
      path.add(layer);
      for (const t of layer.inbound) visit(t.sourceLayer, path);
      path.delete(layer);
      seen.add(layer);
      order.push(layer); // post-order: inputs before consumers
    };
    visit(output.sourceLayer, new Set());
    if (!seen.has(input.sourceLayer)) {
      throw new Error(`simdnet: the model output does not depend on the model input "${input.sourceLayer.name}"`);
    }
    const inputs = order.filter((l) => l instanceof InputLayer);
    if (inputs.length !== 1) {
      throw new Error(`simdnet: a model needs exactly one input layer; this graph reads ${inputs.map((l) => l.name).join(', ')}`);
    }
    const names = new Set<string>();
    for (const l of order) {
      if (names.has(l.name)) throw new Error(`simdnet: two layers are named "${l.name}"; layer names must be unique in a model`);
      names.add(l.name);
    }
    const index = new Map(order.map((l, i) => [l, i]));
    this.nodes = order.map((layer) => ({ layer, inputs: layer.inbound.map((t) => index.get(t.sourceLayer)!), consumers: [] as number[] }));
    for (const [i, n] of this.nodes.entries()) {
      if (new Set(n.inputs).size !== n.inputs.length) {
        throw new Error(`simdnet: layer "${n.layer.name}" reads the same tensor twice, which is not supported`);
      }
      for (const j of n.inputs) this.nodes[j].consumers.push(i);
    }
    this.inputNode = index.get(input.sourceLayer)!;
    this.outputNode = index.get(output.sourceLayer)!;
  }

  get layers(): Layer[] {
    return this.nodes.map((n) => n.layer);
  }

  // needsGrad[i]: some layer at or upstream of node i has trainable weights, so the gradient of
  // node i's output is worth computing. (The first convolution need not compute a dx.)
  needsGrad(): boolean[] {
    const out: boolean[] = [];
    for (const [i, n] of this.nodes.entries()) {
      out[i] = n.layer.weights.some((w) => w.trainable) || n.inputs.some((j) => out[j]);
    }
    return out;
  }
}
