// `simdnet evaluate MODEL`: loss, accuracy, per-class accuracy and the confusion matrix on the
// SIGNS test set.

import { ArgumentError } from '../errors.js';
import { loadSigns } from '../data/signs.js';
import { loadModel } from '../io/model-file.js';
import { confusionMatrix, perClassAccuracy } from '../training/metrics.js';
import { intOption, parse, threadsOption, UsageError } from './options.js';

export const evaluateHelp = `Usage: simdnet evaluate MODEL.h5 [--data DIR] [--split test|train] [--threads N]

Evaluates a saved model on a SIGNS split (inference mode): loss, accuracy, the accuracy of each
class and the confusion matrix.

Options:
  --data DIR     folder with train_signs.h5 and test_signs.h5
  --split NAME   test (default) or train
  --threads N    worker threads (default: the cores, up to 8)
`;

export async function evaluateCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, { data: { type: 'string' }, threads: { type: 'string' }, split: { type: 'string' } }, 'evaluate');
  if (flags.help) return log(evaluateHelp);
  if (positionals.length !== 1) throw new UsageError('evaluate takes one model file (see "simdnet evaluate --help")');
  const split = values.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be "test" or "train", got "${split}"`);
  const threads = threadsOption(values.threads);
  const { model } = await loadModel(positionals[0]);
  if (!model.optimizer) throw new ArgumentError(`simdnet: ${positionals[0]} was saved without a loss; it cannot be evaluated`);
  const data = (await loadSigns(values.data))[split];
  if (data.sampleShape.join(',') !== model.inputShape.join(',')) {
    throw new ArgumentError(`simdnet: the model takes (${model.inputShape.join(', ')}) inputs, the data holds (${data.sampleShape.join(', ')})`);
  }
  const K = model.outputShape[0];
  const result = await model.evaluate(data, { threads });
  const probs = (await model.predictProbabilities(data, { threads })).data;
  const confusion = confusionMatrix(probs, data.y.data, data.size, K);
  const perClass = perClassAccuracy(confusion);
  log(`${model.name} on the SIGNS ${split} set (${data.labels.length} images)`);
  log(`loss: ${result.loss.toFixed(4)}`);
  log(`accuracy: ${result.accuracy.toFixed(4)}`);
  log('');
  log('class  accuracy');
  perClass.forEach((a, k) => log(`${String(k).padStart(5)}  ${Number.isNaN(a) ? '   -' : a.toFixed(4)}`));
  log('');
  log('confusion matrix (rows: true class, columns: predicted)');
  log('     ' + confusion.map((_, k) => String(k).padStart(5)).join(''));
  confusion.forEach((row, k) => log(String(k).padStart(5) + row.map((v) => String(v).padStart(5)).join('')));
  await model.dispose();
}
