// The goldens' portable weight initializer (see ../shared/reference/README.md): every weight a
// pure function of its name, so that this model and the PyTorch one start from the same values.
import { hashUniform, type Model } from '../../src/index.js';
// @ts-expect-error: a plain ES module, shared with a fixture script
import { goldenRange } from './golden-ranges.mjs';

export function setGoldenWeights(model: Model): void {
  const weights: Record<string, Float32Array> = {};
  for (const s of model.layout.ordered()) {
    const { fullName, name, shape, size } = s.weight;
    const [lo, hi] = goldenRange(name, shape) as [number, number];
    weights[fullName] = hashUniform(fullName, size, lo, hi);
  }
  model.setWeights(weights);
}
