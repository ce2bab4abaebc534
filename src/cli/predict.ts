// `simdnet predict MODEL IMAGE|FOLDER...`: the predicted class and the class probabilities of
// each image, as text, JSON or CSV.

import { existsSync, statSync } from 'node:fs';
import { DataFileError } from '../errors.js';
import { loadImages } from '../data/images.js';
import { IMAGE_EXTENSIONS } from '../data/image-folder.js';
import { walkFiles } from '../platform/node-files.js';
import { loadModel } from '../io/model-file.js';
import { argmaxRow } from '../training/metrics.js';
import { predictWithTta } from '../recipes/tta.js';
import { floatOption, IMAGE_MEMORY_HELP, imageMemoryOption, parse, UsageError } from './options.js';

export const predictHelp = `Usage: simdnet predict MODEL.h5 IMAGE|FOLDER... [--json | --csv] [--min-confidence P]

Predicts the class of each JPEG or PNG image (a folder stands for every image in it, walked
recursively), resized to the model's input, and prints the class probabilities with the
model's class names.

Images are read, predicted and printed a batch at a time, so memory does not grow with the
number of images.

Options:
  --json          one JSON array of {image, class, probabilities}
  --csv           image,class,<one column per class>
  --tta           test-time augmentation: average over the image, its mirror image and a
                  closer centre crop of both (four predictions)
  --min-confidence P  answer "unsure" where the top probability is below P (0 to 1); the
                  probabilities are calibrated when train fitted a temperature on a validation split
  --follow-links  follow symbolic links in folders that lead outside them (refused otherwise)
${IMAGE_MEMORY_HELP}
`;

// The answer below --min-confidence.
const UNSURE = 'unsure';

// Images read, predicted and printed at a time.
const BATCH = 256;

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export async function predictCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    json: { type: 'boolean' }, csv: { type: 'boolean' }, 'follow-links': { type: 'boolean' }, 'max-image-memory': { type: 'string' }, 'min-confidence': { type: 'string' }, tta: { type: 'boolean' },
  }, 'predict');
  const minConfidence = values['min-confidence'] === undefined ? 0 : floatOption(values['min-confidence'], 'min-confidence', 0);
  if (!(minConfidence <= 1)) throw new UsageError(`--min-confidence must be between 0 and 1, got ${values['min-confidence']}`);
  const maxDecodeBytes = imageMemoryOption(values['max-image-memory']);
  if (flags.help) return log(predictHelp);
  if (positionals.length < 2) throw new UsageError('predict takes a model file and at least one image or folder (see "simdnet predict --help")');
  if (flags.json && flags.csv) throw new UsageError('--json and --csv: choose one');
  const [file, ...inputs] = positionals;
  const images: string[] = [];
  for (const p of inputs) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      images.push(...await walkFiles(p, { extensions: IMAGE_EXTENSIONS, followLinksOutside: flags['follow-links'], what: 'folder', Kind: DataFileError }));
    } else images.push(p);
  }
  if (images.length === 0) throw new UsageError(`no JPEG or PNG images in ${inputs.join(', ')}`);
  const { model } = await loadModel(file, { compile: false });
  const [H, W] = model.inputShape;
  const K = model.outputShape[0];
  const names = model.classNames;
  if (flags.csv) log(['image', 'class', ...names].map(csvField).join(','));
  if (flags.json) log('[');
  try {
    for (let from = 0; from < images.length; from += BATCH) {
      const paths = images.slice(from, from + BATCH);
      const x = loadImages(paths, H, W, maxDecodeBytes);
      const probs = (flags.tta ? await predictWithTta(model, x, { threads: 1 }) : await model.predictProbabilities(x, { threads: 1 })).data;
      for (const [i, path] of paths.entries()) {
        const k = argmaxRow(probs, i, K);
        const p = Array.from(probs.subarray(i * K, (i + 1) * K), (v) => Number(v.toFixed(4)));
        const probabilities = Object.fromEntries(names.map((n, j) => [n, p[j]]));
        const answer = probs[i * K + k] < minConfidence ? UNSURE : names[k];
        if (flags.json) {
          const last = from + i === images.length - 1;
          log(JSON.stringify({ image: path, class: answer, probabilities }, null, 2).replace(/^/gm, '  ') + (last ? '' : ','));
        } else if (flags.csv) log([path, answer, ...p.map(String)].map(csvField).join(','));
        else log(`${path}: ${answer} (${answer === UNSURE ? `best ${names[k]} at ` : ''}${(100 * p[k]).toFixed(1)}%)  ` + names.map((n, j) => `${n}: ${p[j].toFixed(3)}`).join('  '));
      }
    }
    if (flags.json) log(']');
  } finally {
    await model.dispose();
  }
}
