// `simdnet evaluate MODEL`: loss, accuracy, per-class accuracy and the confusion matrix, on a
// SIGNS split or a folder of class folders, with the model's class names.

import { ArgumentError } from '../errors.js';
import { loadModel } from '../io/model-file.js';
import { confusionMatrix, countCorrect, perClassAccuracy } from '../training/metrics.js';
import { predictWithTta } from '../recipes/tta.js';
import { loadEvaluationData } from './data-source.js';
import { IMAGE_MEMORY_HELP, imageMemoryOption, parse, threadsOption, UsageError } from './options.js';
import { robustness, robustnessLines } from './robustness.js';

// Mean cross-entropy of one-hot labels under probabilities, rows of K.
function crossEntropy(probs: Float32Array, labels: Float32Array, K: number): number {
  let s = 0;
  for (let i = 0; i < probs.length; i++) if (labels[i] > 0) s -= labels[i] * Math.log(Math.max(probs[i], 1e-12));
  return s / (probs.length / K);
}

export const evaluateHelp = `Usage: simdnet evaluate MODEL.h5 [--data DIR] [--split test|train] [--robustness] [--tta] [--threads N]

Evaluates a saved model (inference mode): loss, accuracy, the accuracy of each class and the
confusion matrix, with the model's class names.

Options:
  --data DIR     SIGNS folder (default: SIGNS), or a folder of class folders (or one with
                 train/ and test/, from which --split picks)
  --split NAME   test (default) or train
  --robustness   also the accuracy under 14 shifts a new camera brings (scale, position,
                 rotation, brightness, contrast, noise, blur, JPEG quality 15, grey, a cluttered
                 background) and their mean, then under 9 other-camera framings (close-ups,
                 hands turned 30 degrees, crops that cut the wrist, warm and cool light, a
                 softer sensor) and their mean
  --tta          test-time augmentation: the probabilities averaged over the image, its mirror
                 image and a closer centre crop of both (four predictions); off by default
  --threads N    worker threads (default: the cores, up to 8)
  --follow-links follow symbolic links in class folders that lead outside them (refused otherwise)
${IMAGE_MEMORY_HELP}
`;

export async function evaluateCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    data: { type: 'string' }, threads: { type: 'string' }, split: { type: 'string' }, 'skip-bad-images': { type: 'boolean' }, robustness: { type: 'boolean' }, tta: { type: 'boolean' },
    'follow-links': { type: 'boolean' }, 'max-image-memory': { type: 'string' },
  }, 'evaluate');
  if (flags.help) return log(evaluateHelp);
  if (positionals.length !== 1) throw new UsageError('evaluate takes one model file (see "simdnet evaluate --help")');
  const split = values.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be "test" or "train", got "${split}"`);
  const threads = threadsOption(values.threads);
  const { model } = await loadModel(positionals[0]);
  if (!model.optimizer) throw new ArgumentError(`simdnet: ${positionals[0]} was saved without a loss; it cannot be evaluated`);
  const data = await loadEvaluationData({
    data: values.data, split, imageSize: model.inputShape[0], classNames: model.classNames, skipBadImages: flags['skip-bad-images'], followLinks: flags['follow-links'], maxDecodeBytes: imageMemoryOption(values['max-image-memory']), quiet: true, log,
  });
  if (data.sampleShape.join(',') !== model.inputShape.join(',')) {
    throw new ArgumentError(`simdnet: the model takes (${model.inputShape.join(', ')}) inputs, the data holds (${data.sampleShape.join(', ')})`);
  }
  if (data.classes !== model.outputShape[0]) {
    throw new ArgumentError(`simdnet: the model outputs ${model.outputShape[0]} classes, the data has ${data.classes}`);
  }
  const K = model.outputShape[0];
  const probs = flags.tta ? (await predictWithTta(model, data.x, { threads })).data : (await model.predictProbabilities(data, { threads })).data;
  // With TTA, the loss is the cross-entropy of the averaged probabilities.
  const result = flags.tta ? { loss: crossEntropy(probs, data.y.data, K), accuracy: countCorrect(probs, data.y.data, data.size, K) / data.size }
    : await model.evaluate(data, { threads });
  const confusion = confusionMatrix(probs, data.y.data, data.size, K);
  const perClass = perClassAccuracy(confusion);
  const names = model.classNames;
  const w = Math.max(5, ...names.map((n) => n.length));
  log(`${model.name} on the ${split} set (${data.size} images)${flags.tta ? ', with test-time augmentation (4 views)' : ''}`);
  log(`loss: ${result.loss.toFixed(4)}`);
  log(`accuracy: ${result.accuracy.toFixed(4)}`);
  log('');
  log(`${'class'.padStart(w)}  accuracy  images`);
  perClass.forEach((a, k) => log(`${names[k].padStart(w)}  ${Number.isNaN(a) ? '       -' : a.toFixed(4).padStart(8)}  ${String(confusion[k].reduce((s, v) => s + v, 0)).padStart(6)}`));
  log('');
  log('confusion matrix (rows: true class, columns: predicted)');
  log(' '.repeat(w) + names.map((n) => n.padStart(w + 1)).join(''));
  confusion.forEach((row, k) => log(names[k].padStart(w) + row.map((v) => String(v).padStart(w + 1)).join('')));
  if (flags.robustness) {
    log('');
    log('robustness: accuracy under each shift');
    for (const line of robustnessLines(await robustness(model, data, { threads }))) log(line);
  }
  await model.dispose();
}
