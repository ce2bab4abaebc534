// `simdnet reproduce` (npm start): the tutorial end to end. Part 1 trains the 3-layer ConvNet
// (Adam 0.009, 100 epochs, minibatch 64), part 2 the ResNet-50 (Adam 0.001, 20 epochs, batch
// 32), then a table sets our figures beside the article's. Then, unless --recipe tutorial, the
// same two models train with the robust recipe and a second table compares the recipes.

import { join, resolve } from 'node:path';
import { loadSigns } from '../data/signs.js';
import { ROBUSTNESS_SHIFTS } from '../data/robustness.js';
import { intOption, parse, threadsOption, UsageError } from './options.js';
import { recipes } from '../recipes/recipes.js';
import { runTraining, type TrainOutcome } from './train.js';

export const reproduceHelp = `Usage: simdnet reproduce [--data DIR] [--out DIR] [--threads N] [--seed N] [--recipe both|tutorial]

Reproduces the tutorial: trains the ConvNet (part 1) then the ResNet-50 (part 2) with the
article's settings, and prints our train and test accuracy and seconds per epoch beside the
article's. Then trains both with the robust recipe (see "simdnet train --help") and prints the
two recipes side by side: test accuracy and the mean accuracy of the robustness suite. Each
run's model, history and report go under --out (runs/reproduce).
  --epochs-scale X   run X times each recipe's epochs (for a quick look; default 1)
  --recipe NAME      both (default) or tutorial (the first table only)
`;

export async function reproduceCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    data: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, 'epochs-scale': { type: 'string' },
    recipe: { type: 'string' },
  }, 'reproduce');
  if (flags.help) return log(reproduceHelp);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (see "simdnet reproduce --help")`);
  const scale = values['epochs-scale'] === undefined ? 1 : Number(values['epochs-scale']);
  if (!(scale > 0 && scale <= 1)) throw new UsageError(`--epochs-scale must be in (0, 1], got "${values['epochs-scale']}"`);
  const threads = threadsOption(values.threads);
  const which = values.recipe ?? 'both';
  if (which !== 'both' && which !== 'tutorial') throw new UsageError(`--recipe must be "both" or "tutorial", got "${which}"`);
  const seed = intOption(values.seed, 'seed', 0, 0);
  const out = resolve(values.out ?? join('runs', 'reproduce'));
  const signs = await loadSigns(values.data);
  const data = { train: signs.train, test: signs.test, source: `SIGNS (${signs.dir})` };
  log(`SIGNS: ${data.train.size} training and ${data.test.size} test images from ${signs.dir}`);
  const rows: [string, TrainOutcome][] = [];
  for (const [part, r] of [[1, recipes.convnet], [2, recipes.resnet50]] as const) {
    const epochs = Math.max(1, Math.round(r.epochs * scale));
    log(`\nPart ${part}: ${r.title}, Adam ${r.learningRate}, ${epochs} epochs, minibatch ${r.batchSize}`);
    // A reproduction owns its folders: each run replaces the previous one's outputs.
    const outcome = await runTraining({ recipe: r, epochs, batchSize: r.batchSize, seed, threads, data, outDir: join(out, r.name), force: true, log });
    log(`Train Accuracy: ${outcome.train.accuracy.toFixed(6)}`);
    log(`Test Accuracy: ${outcome.test!.accuracy.toFixed(6)}`);
    rows.push([r.name, outcome]);
    await outcome.model.dispose();
  }
  // Like for like: the article's ConvNet figure is an evaluation after training; its ResNet-50
  // figure is Keras's running accuracy over the last epoch (training mode).
  const header = ['model', 'train acc: ours / article', 'test acc: ours / article', 's per epoch: ours / article'];
  const rowsText = rows.map(([name, o]) => {
    const a = recipes[name].article!;
    const ours = name === 'resnet50' ? o.history.accuracy[o.history.accuracy.length - 1] : o.train.accuracy;
    return [name, `${ours.toFixed(3)} / ${a.trainAccuracy.toFixed(3)}`, `${o.test!.accuracy.toFixed(3)} / ${a.testAccuracy.toFixed(3)}`,
      `${o.secondsPerEpoch.toFixed(1)} / ${a.secondsPerEpoch ?? '-'}`];
  });
  log('\nsimdnet against the article');
  for (const l of markdownTable(header, rowsText)) log(l);
  log('\nConvNet train accuracy: evaluated after training. ResNet-50 train accuracy: the running figure of the last epoch, as Keras prints it.');
  log(`Reports: ${join(out, 'convnet', 'report.html')} and ${join(out, 'resnet50', 'report.html')}`);
  if (which === 'tutorial') return;

  const robust: [string, TrainOutcome][] = [];
  for (const r of [recipes.convnet, recipes.resnet50]) {
    const epochs = Math.max(1, Math.round(r.robust.epochs * scale));
    const batchSize = r.robust.batchSize ?? r.batchSize;
    log(`\nRobust recipe: ${r.title}, ${r.robust.weightDecay > 0 ? 'AdamW' : 'Adam'} ${r.robust.learningRate} with warm-up and cosine decay, ` +
      `${epochs} epochs, minibatch ${batchSize}, augmentation, label smoothing ${r.robust.labelSmoothing}`);
    const outcome = await runTraining({
      recipe: r, epochs, batchSize, seed, threads, data, outDir: join(out, `${r.name}-robust`), force: true, settings: r.robust, log,
    });
    robust.push([r.name, outcome]);
    await outcome.model.dispose();
  }
  const header2 = ['model', 'test acc: tutorial / robust', 'robustness: tutorial / robust'];
  const rows2 = robust.map(([name, o], i) => {
    const t = rows[i][1];
    return [name, `${t.test!.accuracy.toFixed(3)} / ${o.test!.accuracy.toFixed(3)}`, `${t.robustness!.mean.toFixed(3)} / ${o.robustness!.mean.toFixed(3)}`];
  });
  log('\nThe tutorial recipe against the robust recipe');
  for (const l of markdownTable(header2, rows2)) log(l);
  log(`\nRobustness: the mean test accuracy over ${ROBUSTNESS_SHIFTS.length} shifts (scale, position, rotation, brightness, contrast, noise, blur, JPEG 15, grey, cluttered background).`);
}

// A Markdown table, the first column left-aligned and the others right-aligned.
function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
}
