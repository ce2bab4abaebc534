// Where every weight lives in the model's flat parameter vector: trainable weights first (the
// range the optimizer and the gradient reduction cover), then the non-trainable ones.

import type { Weight } from '../layers/layer.js';
import type { Graph } from './graph.js';

// Each weight starts on a 64-byte boundary, so that slices handed to different threads never
// share a cache line inside one weight.
const ALIGN_FLOATS = 16;
const align = (n: number) => Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;

export interface WeightPlace {
  readonly weight: Weight;
  readonly node: number;
  readonly offset: number; // in floats from the start of the parameter vector
}

export class ParamLayout {
  readonly places: WeightPlace[] = [];
  readonly byName = new Map<string, WeightPlace>();
  readonly trainableFloats: number; // length of the gradient and optimizer-state vectors
  readonly totalFloats: number;
  /** placeOf[node][k]: the place of weight k of node's layer */
  readonly placeOf: WeightPlace[][];

  constructor(graph: Graph) {
    let offset = 0;
    this.placeOf = graph.nodes.map(() => []);
    const placeAll = (trainable: boolean) => {
      for (const [node, n] of graph.nodes.entries()) {
        for (const [k, w] of n.layer.weights.entries()) {
          if (w.trainable !== trainable) continue;
          const place = { weight: w, node, offset };
          this.placeOf[node][k] = place;
          this.places.push(place);
          this.byName.set(w.fullName, place);
          offset += align(w.size);
        }
      }
    };
    placeAll(true);
    this.trainableFloats = offset;
    placeAll(false);
    this.totalFloats = offset;
  }

  /** Weights in the model's layer order with each layer's weights in its own order (Keras's order). */
  ordered(): WeightPlace[] {
    return this.placeOf.flat();
  }

  countParams(): { total: number; trainable: number; nonTrainable: number } {
    let trainable = 0, nonTrainable = 0;
    for (const s of this.places) {
      if (s.weight.trainable) trainable += s.weight.size;
      else nonTrainable += s.weight.size;
    }
    return { total: trainable + nonTrainable, trainable, nonTrainable };
  }
}
