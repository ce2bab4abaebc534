// Where every weight lives in the model's flat parameter vector: trainable weights first (the
// range the optimizer and the gradient reduction cover), then the non-trainable ones.

import type { Weight } from '../layers/layer.js';
import type { Graph } from './graph.js';

// Each weight starts on a 64-byte boundary, so that slices handed to different threads never
// share a cache line inside one weight.
const ALIGN_FLOATS = 16;
const align = (n: number) => Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;

export interface WeightSlot {
  readonly weight: Weight;
  readonly node: number;
  readonly offset: number; // in floats from the start of the parameter vector
}

export class ParamLayout {
  readonly slots: WeightSlot[] = [];
  readonly byName = new Map<string, WeightSlot>();
  readonly trainableFloats: number; // length of the gradient and optimizer-state vectors
  readonly totalFloats: number;
  // slotOf[node][k]: the slot of weight k of node's layer
  readonly slotOf: WeightSlot[][];

  constructor(graph: Graph) {
    let offset = 0;
    this.slotOf = graph.nodes.map(() => []);
    const place = (trainable: boolean) => {
      for (const [node, n] of graph.nodes.entries()) {
        for (const [k, w] of n.layer.weights.entries()) {
          if (w.trainable !== trainable) continue;
          const slot = { weight: w, node, offset };
          this.slotOf[node][k] = slot;
          this.slots.push(slot);
          this.byName.set(w.fullName, slot);
          offset += align(w.size);
        }
      }
    };
    place(true);
    this.trainableFloats = offset;
    place(false);
    this.totalFloats = offset;
  }

  // Weights in the model's layer order with each layer's weights in its own order (Keras's order).
  ordered(): WeightSlot[] {
    return this.slotOf.flat();
  }

  countParams(): { total: number; trainable: number; nonTrainable: number } {
    let trainable = 0, nonTrainable = 0;
    for (const s of this.slots) {
      if (s.weight.trainable) trainable += s.weight.size;
      else nonTrainable += s.weight.size;
    }
    return { total: trainable + nonTrainable, trainable, nonTrainable };
  }
}
