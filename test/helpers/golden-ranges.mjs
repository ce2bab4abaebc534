// The range of each weight in the goldens' portable initializer (../shared/reference/README.md),
// by its name and shape: shared by test/helpers/golden-weights.ts and the fixture script
// test/fixtures/resnet50-gradients/export-inputs.mjs (plain JavaScript, so both can import it).
export function goldenRange(name, shape) {
  if (name === 'kernel') {
    const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
    const limit = Math.sqrt(6 / (receptive * shape[shape.length - 2] + receptive * shape[shape.length - 1]));
    return [-limit, limit];
  }
  if (name === 'gamma') return [0.9, 1.1];
  if (name === 'moving_variance') return [0.9, 1.3];
  return [-0.1, 0.1]; // bias, beta, moving_mean
}
