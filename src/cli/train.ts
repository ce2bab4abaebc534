// `simdnet train`: trains one of the tutorial's models on SIGNS and writes the model, its history
// and a report into the output folder. `reproduce` runs the same for both models.

import { ArgumentError, SimdnetError } from '../errors.js';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { loadSigns, type SignsData } from '../data/signs.js';
import { prepareOutputDir, removeStaleTemporaries, writeAtomically } from '../io/files.js';
import { loadModel, saveModel, type LoadedModel, type TrainingState } from '../io/model-file.js';
import { defaultThreads, type Model } from '../models/model.js';
import { argmaxRow, confusionMatrix } from '../training/metrics.js';
import { History, type Logs } from '../training/callbacks.js';
import { accuracyChart, lossChart, renderReport, type Misclassified } from '../report/training-report.js';
import { compileRecipe, recipe, type Recipe } from './recipes.js';
import { floatOption, intOption, parse, threadsOption, UsageError } from './options.js';

export const trainHelp = `Usage: simdnet train --model convnet|resnet50 [options]
       simdnet train --resume MODEL.h5 [options]

Trains a model of the tutorial on SIGNS, with a progress bar per epoch, then saves into --out:
model.h5 (Keras layout, with the optimizer state), history.json, history.csv, loss.svg,
accuracy.svg and report.html.

Options:
  --model NAME       convnet (3-layer ConvNet) or resnet50
  --epochs N         total epochs (convnet 100, resnet50 20); with --resume, the total to reach
  --batch-size N     minibatch size (convnet 64, resnet50 32)
  --lr X             Adam learning rate (convnet 0.009, resnet50 0.001)
  --seed N           seed of the initial weights and of the shuffling (0)
  --threads N        worker threads (default: the cores, up to 8)
  --deterministic    the same bits whatever --threads (each batch cut into 4 shards)
  --data DIR         folder with train_signs.h5 and test_signs.h5
  --out DIR          output folder (runs/<model>)
  --resume FILE      continue the run saved in FILE where it stopped (its last full epoch)
  --force            train into an --out folder that holds another run, replacing it
  --quiet            no progress bars

model.h5 is saved at the end of every epoch; Ctrl-C (or SIGTERM) stops after the current batch
and leaves model.h5 at the last full epoch, to continue with --resume.
`;

export interface TrainOptions {
  recipe: Recipe;
  epochs: number;
  batchSize: number;
  learningRate?: number; // default: the recipe's, or the resumed run's
  seed: number;
  threads?: number;
  deterministic?: boolean;
  data: SignsData;
  outDir: string;
  resume?: LoadedModel & { path: string };
  force?: boolean;           // replace a run already in outDir
  signal?: AbortSignal;      // stops training after the current batch; the last full epoch stays saved
  quiet?: boolean;
  log: (s: string) => void;
}

export interface TrainOutcome {
  model: Model;
  history: Record<string, number[]>;
  train: Logs;
  test: Logs;
  secondsPerEpoch: number;
  outDir: string;
}

export async function runTraining(o: TrainOptions): Promise<TrainOutcome> {
  let model: Model;
  let past: TrainingState | undefined;
  if (o.resume) {
    model = o.resume.model;
    past = o.resume.training;
    if (model.name !== o.recipe.modelName) {
      throw new ArgumentError(`simdnet: ${o.resume.path} holds a ${model.name} model, not ${o.recipe.name} (a model file from a different architecture)`);
    }
    if (!past || !model.optimizer) throw new ArgumentError(`simdnet: ${o.resume.path} holds no training state to resume from (saved without an optimizer)`);
    if (o.learningRate !== undefined) model.optimizer.learningRate = o.learningRate;
  } else {
    model = o.recipe.build(o.seed);
    compileRecipe(model, o.recipe, o.learningRate ?? o.recipe.learningRate);
  }
  const learningRate = model.optimizer!.learningRate;
  const done = past?.epochsDone ?? 0;
  if (o.epochs <= done) throw new UsageError(`--epochs ${o.epochs}: ${o.resume?.path} has already trained ${done} epochs; ask for more`);
  const seed = past?.seed ?? o.seed;
  const { train, test } = o.data;
  const runId = past?.runId && o.resume && resolve(dirname(o.resume.path)) === resolve(o.outDir) ? past.runId : randomUUID();
  startRun(o.outDir, o.resume?.path, o.force ?? false);
  const modelFile = join(o.outDir, 'model.h5');
  const state = (epochsDone: number, history: Record<string, number[]>): TrainingState =>
    ({ epochsDone, history, seed, batchSize: o.batchSize, modelName: o.recipe.name, runId });
  const sofar = new History();
  const stop = () => { model.stopTraining = true; };
  o.signal?.addEventListener('abort', stop);
  const fitStart = performance.now();
  let h: History;
  try {
    h = await model.fit(train, {
      epochs: o.epochs, initialEpoch: done, batchSize: o.batchSize, seed, threads: o.threads, deterministic: o.deterministic,
      validationData: test, verbose: o.quiet ? 0 : 1,
      callbacks: {
        onBatchBegin: () => { if (o.signal?.aborted) stop(); },
        onEpochEnd: async (epoch, logs) => {
          // An epoch cut short by a stop is not a checkpoint: model.h5 keeps the last full one.
          if (o.signal?.aborted || !logs) return;
          // The tutorial's ConvNet prints its cost every 5 epochs.
          if (o.recipe.name === 'convnet' && epoch % 5 === 0) o.log(`Cost after epoch ${epoch}: ${logs.loss.toFixed(6)}`);
          sofar.record(epoch, logs);
          await saveModel(model, modelFile, state(epoch + 1, History.concat(past?.history ?? {}, sofar).history));
        },
      },
    });
  } finally {
    o.signal?.removeEventListener('abort', stop);
  }
  if (o.signal?.aborted) throw new InterruptedError(modelFile);
  const fitSeconds = (performance.now() - fitStart) / 1000;
  const full = History.concat(past?.history ?? {}, h);
  const history = full.history;
  const times = h.history.time ?? [];
  const secondsPerEpoch = times.length ? times.reduce((a, b) => a + b, 0) / times.length : fitSeconds;

  const run = { threads: o.threads, deterministic: o.deterministic, batchSize: o.batchSize };
  const trainEval = await model.evaluate(train, run);
  const testEval = await model.evaluate(test, run);
  const K = model.outputShape[0];
  const probs = (await model.predictProbabilities(test, run)).data;
  const confusion = confusionMatrix(probs, test.y.data, test.size, K);
  const [H, W] = model.inputShape;
  const misclassified: Misclassified[] = [];
  for (let i = 0; i < test.size; i++) {
    const p = argmaxRow(probs, i, K);
    if (p !== test.labels[i]) {
      misclassified.push({ pixels: test.image(i), height: H, width: W, predicted: p, actual: test.labels[i], probability: probs[i * K + p] });
    }
  }

  // model.h5 holds the last epoch already (its checkpoint); the other outputs follow, each
  // naming the run it belongs to.
  const write = (name: string, text: string) => writeAtomically(join(o.outDir, name), (tmp) => writeFileSync(tmp, text));
  await write('history.json', JSON.stringify({ runId, ...full.toJSON() }, null, 2) + '\n');
  await write('history.csv', full.toCSV());
  await write('loss.svg', lossChart(history));
  await write('accuracy.svg', accuracyChart(history));
  await write('report.html', renderReport({
    title: `simdnet: ${o.recipe.title} on SIGNS`,
    settings: {
      model: o.recipe.name, parameters: model.countParams().toLocaleString('en-US'), epochs: o.epochs, 'batch size': o.batchSize,
      'learning rate': learningRate, seed, threads: o.threads ?? defaultThreads(), 'seconds per epoch': secondsPerEpoch.toFixed(1),
      ...(o.resume ? { 'resumed from': o.resume.path } : {}), run: runId,
    },
    history,
    results: { train: trainEval, test: testEval },
    classes: ['0', '1', '2', '3', '4', '5'].slice(0, K),
    confusion,
    misclassified,
  }));
  return { model, history, train: trainEval, test: testEval, secondsPerEpoch, outDir: o.outDir };
}

// The outputs a run writes into its folder.
const RUN_FILES = ['model.h5', 'history.json', 'history.csv', 'loss.svg', 'accuracy.svg', 'report.html'];

// Readies the output folder: writable (checked before any work), cleared of the temporaries of
// killed processes, and holding no other run's outputs (refused unless `force`, which removes
// them, so that a folder never mixes two runs' files).
function startRun(outDir: string, resumePath: string | undefined, force: boolean): void {
  prepareOutputDir(outDir);
  removeStaleTemporaries(outDir);
  const resumingHere = resumePath !== undefined && resolve(resumePath) === resolve(outDir, 'model.h5');
  if (resumingHere) return;
  const present = RUN_FILES.filter((f) => existsSync(join(outDir, f)));
  if (present.length === 0) return;
  if (!force) {
    throw new UsageError(`${outDir} already holds a run (${present.join(', ')}); pass --force to replace it, ` +
      '--resume to continue it, or --out for another folder');
  }
  for (const f of present) rmSync(join(outDir, f), { force: true });
}

// Training stopped by a signal: model.h5 holds the last full epoch.
export class InterruptedError extends SimdnetError {
  constructor(readonly modelFile: string) {
    super(`simdnet: interrupted; ${modelFile} holds the last full epoch: continue with --resume ${modelFile}`);
  }
}

export async function trainCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
    seed: { type: 'string' }, threads: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
    resume: { type: 'string' }, quiet: { type: 'boolean' }, deterministic: { type: 'boolean' }, force: { type: 'boolean' },
  }, 'train');
  if (flags.help) return log(trainHelp);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (see "simdnet train --help")`);
  // Every flag is checked before anything slow happens.
  const epochsFlag = values.epochs === undefined ? undefined : intOption(values.epochs, 'epochs', 1);
  const batchFlag = values['batch-size'] === undefined ? undefined : intOption(values['batch-size'], 'batch-size', 1);
  const learningRate = values.lr === undefined ? undefined : floatOption(values.lr, 'lr', 1);
  const seed = intOption(values.seed, 'seed', 0, 0);
  const threads = threadsOption(values.threads);
  if (values.model !== undefined) recipe(values.model);
  const resume = values.resume ? { ...(await loadModel(values.resume)), path: values.resume } : undefined;
  if (resume && !resume.training) throw new ArgumentError(`simdnet: ${values.resume} holds no training state to resume from`);
  const r = recipe(values.model ?? resume?.training?.modelName);
  const outDir = resolve(values.out ?? (resume ? dirname(resume.path) : join('runs', r.name)));
  prepareOutputDir(outDir);
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: now
    log(`\n${sig}: stopping after this batch (again to stop at once)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: TrainOutcome;
  try {
    outcome = await runTraining({
      recipe: r, epochs: epochsFlag ?? r.epochs,
      batchSize: batchFlag ?? resume?.training?.batchSize ?? r.batchSize,
      learningRate, seed, threads, deterministic: flags.deterministic,
      data: await loadSigns(values.data),
      outDir, resume, force: flags.force, signal: stop.signal, quiet: flags.quiet, log,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  log(`Train accuracy: ${outcome.train.accuracy.toFixed(6)}`);
  log(`Test accuracy:  ${outcome.test.accuracy.toFixed(6)}`);
  log(`Seconds per epoch: ${outcome.secondsPerEpoch.toFixed(1)}`);
  log(`Saved ${join(outcome.outDir, 'model.h5')}, history.json, history.csv, loss.svg, accuracy.svg and report.html`);
  await outcome.model.dispose();
}
