// The goldens' portable weight initializer (see ../shared/reference/README.md): every weight a
// pure function of its name, so that this model and the PyTorch one start from the same values.
import { hashUniform, type Model } from '../../src/index.js';

export function setGoldenWeights(model: Model): void {
  const weights: Record<string, Float32Array> = {};
  for (const s of model.layout.ordered()) {
    const { fullName, name, shape, size } = s.weight;
    let lo: number, hi: number;
    if (name === 'kernel') {
      const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
      const limit = Math.sqrt(6 / (receptive * shape[shape.length - 2] + receptive * shape[shape.length - 1]));
      [lo, hi] = [-limit, limit];
    } else if (name === 'gamma') [lo, hi] = [0.9, 1.1];
    else if (name === 'moving_variance') [lo, hi] = [0.9, 1.3];
    else [lo, hi] = [-0.1, 0.1]; // bias, beta, moving_mean
    weights[fullName] = hashUniform(fullName, size, lo, hi);
  }
  model.setWeights(weights);
}
