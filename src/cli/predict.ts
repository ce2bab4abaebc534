// `simdnet predict MODEL IMAGE|FOLDER...`: the predicted class and the class probabilities of
// each image, as text, JSON or CSV.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadImages } from '../data/images.js';
import { IMAGE_EXTENSIONS } from '../data/image-folder.js';
import { loadModel } from '../io/model-file.js';
import { argmaxRow } from '../training/metrics.js';
import { parse, UsageError } from './options.js';

export const predictHelp = `Usage: simdnet predict MODEL.h5 IMAGE|FOLDER... [--json | --csv]

Predicts the class of each JPEG or PNG image (a folder stands for every image in it, walked
recursively), resized to the model's input, and prints the class probabilities with the
model's class names.

Options:
  --json   one JSON array of {image, class, probabilities}
  --csv    image,class,<one column per class>
`;

function imagesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...imagesIn(p));
    else if (IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export async function predictCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { flags, positionals } = parse(argv, { json: { type: 'boolean' }, csv: { type: 'boolean' } }, 'predict');
  if (flags.help) return log(predictHelp);
  if (positionals.length < 2) throw new UsageError('predict takes a model file and at least one image or folder (see "simdnet predict --help")');
  if (flags.json && flags.csv) throw new UsageError('--json and --csv: choose one');
  const [file, ...inputs] = positionals;
  const images = inputs.flatMap((p) => (existsSync(p) && statSync(p).isDirectory() ? imagesIn(p) : [p]));
  if (images.length === 0) throw new UsageError(`no JPEG or PNG images in ${inputs.join(', ')}`);
  const { model } = await loadModel(file, { compile: false });
  const [H, W] = model.inputShape;
  const x = loadImages(images, H, W);
  const probs = (await model.predictProbabilities(x, { threads: 1 })).data;
  const K = model.outputShape[0];
  const names = model.classNames;
  const results = images.map((path, i) => {
    const k = argmaxRow(probs, i, K);
    const p = Array.from(probs.subarray(i * K, (i + 1) * K), (v) => Number(v.toFixed(4)));
    return { image: path, class: names[k], index: k, probabilities: Object.fromEntries(names.map((n, j) => [n, p[j]])) };
  });
  if (flags.json) log(JSON.stringify(results.map(({ index: _, ...r }) => r), null, 2));
  else if (flags.csv) {
    log(['image', 'class', ...names].map(csvField).join(','));
    for (const r of results) log([r.image, r.class, ...names.map((n) => String(r.probabilities[n]))].map(csvField).join(','));
  } else {
    for (const r of results) {
      log(`${r.image}: ${r.class} (${(100 * r.probabilities[r.class]).toFixed(1)}%)  ` + names.map((n) => `${n}: ${r.probabilities[n].toFixed(3)}`).join('  '));
    }
  }
  await model.dispose();
}
