// Floating-point operations per sample of a model: 2 per multiply-add of every layer that says
// it has them (convolutions, dense); training adds the two backward GEMMs (the kernel gradient
// always, the input gradient where the engine computes one: not for the first layer).

import type { Model } from '../src/models/model.js';

export function flopsPerSample(model: Model, training: boolean): number {
  const needsGrad = model.graph.needsGrad();
  let flops = 0;
  for (const n of model.graph.nodes) {
    const macs = n.layer.multiplyAdds();
    if (macs === 0) continue;
    flops += 2 * macs;
    if (training) flops += 2 * macs * (n.inputs.some((j) => needsGrad[j]) ? 2 : 1);
  }
  return flops;
}
