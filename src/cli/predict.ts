// `simdnet predict MODEL IMAGE...`: the predicted sign and the class probabilities of each image.

import { loadImages } from '../data/images.js';
import { loadModel } from '../io/model-file.js';
import { argmaxRow } from '../training/metrics.js';
import { parse, UsageError } from './options.js';

export const predictHelp = `Usage: simdnet predict MODEL.h5 IMAGE... [--json]

Predicts the sign (0-5) shown in each JPEG or PNG image, resized to the model's input, and
prints the class probabilities.
`;

export async function predictCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { flags, positionals } = parse(argv, { json: { type: 'boolean' } }, 'predict');
  if (flags.help) return log(predictHelp);
  if (positionals.length < 2) throw new UsageError('predict takes a model file and at least one image (see "simdnet predict --help")');
  const [file, ...images] = positionals;
  const { model } = await loadModel(file, { compile: false });
  const [H, W] = model.inputShape;
  const x = loadImages(images, H, W);
  const probs = (await model.predictProbabilities(x, { threads: 1 })).data;
  const K = model.outputShape[0];
  const results = images.map((path, i) => {
    const sign = argmaxRow(probs, i, K);
    return { image: path, sign, probabilities: Array.from(probs.subarray(i * K, (i + 1) * K), (p) => Number(p.toFixed(4))) };
  });
  if (flags.json) log(JSON.stringify(results, null, 2));
  else for (const r of results) {
    log(`${r.image}: sign ${r.sign} (${(100 * r.probabilities[r.sign]).toFixed(1)}%)  ` + r.probabilities.map((p, k) => `${k}: ${p.toFixed(3)}`).join('  '));
  }
  await model.dispose();
}
