// Floating-point operations per sample of a model: 2 per multiply-add of every convolution and
// dense layer; training adds the two backward GEMMs (the kernel gradient always, the input
// gradient where the executor computes one: not for the first layer).

import { Conv2D } from '../src/layers/conv2d.js';
import { Dense } from '../src/layers/dense.js';
import type { Model } from '../src/models/model.js';

export function flopsPerSample(model: Model, training: boolean): number {
  const needsGrad = model.graph.needsGrad();
  let flops = 0;
  for (const n of model.graph.nodes) {
    const l = n.layer;
    let macs = 0;
    if (l instanceof Conv2D) {
      const [OH, OW, F] = l.outputShape;
      macs = OH * OW * F * l.kernelSize * l.kernelSize * l.inputShapes[0][2];
    } else if (l instanceof Dense) {
      macs = l.inputShapes[0][0] * l.units;
    } else continue;
    flops += 2 * macs;
    if (training) flops += 2 * macs * (n.inputs.some((j) => needsGrad[j]) ? 2 : 1);
  }
  return flops;
}
