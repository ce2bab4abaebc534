// `simdnet train`: trains one of the tutorial's models on SIGNS or on folders of images, and
// writes the model, its history and a report into the output folder. `reproduce` runs the same
// for both models on SIGNS.

import { AbortedError, ArgumentError, SimdnetError } from '../errors.js';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { loadTrainingData, type TrainingData } from './data-source.js';
import { lockRunFolder, prepareOutputDir, removeStaleTemporaries, writeAtomically } from '../platform/node-files.js';
import { loadModel, loadWeights, saveModel, type LoadedModel, type TrainingState } from '../io/model-file.js';
import { defaultThreads, Model } from '../models/model.js';
import { argmaxRow, confusionMatrix } from '../training/metrics.js';
import { expectedCalibrationError } from '../training/calibration.js';
import { calibrateTemperature } from '../recipes/calibrate.js';
import { History, type Logs } from '../training/callbacks.js';
import { accuracyChart, lossChart, renderReport, type Misclassified } from '../report/training-report.js';
import { ROBUST_AUGMENTATION } from '../data/augmentation.js';
import { compileRecipe, TUTORIAL, type Recipe, type Settings } from '../recipes/recipes.js';
import { fitRecipe, holdOut } from '../recipes/recipe-fit.js';
import { recipe } from './recipe-choice.js';
import { robustness, type Robustness } from './robustness.js';
import { floatOption, IMAGE_MEMORY_HELP, imageMemoryOption, intOption, parse, threadsOption, UsageError } from './options.js';

export const trainHelp = `Usage: simdnet train --model convnet|resnet50|mobilenetv2 [options]
       simdnet train --resume MODEL.h5 [options]

Trains a model of the tutorial, or MobileNetV2, on SIGNS or on your own images, with a progress bar per epoch,
then saves into --out: model.h5 (Keras layout, with the optimizer state and the class names),
history.json, history.csv, loss.svg, accuracy.svg and report.html.

Your own images: --data DIR where DIR holds one folder per class (DIR/cat/*.jpg, DIR/dog/*.png;
class names are the folder names, sorted), or DIR/train and DIR/test each laid out so. The
model's classifier gets as many outputs as there are classes.

Options:
  --model NAME       convnet (3-layer ConvNet), resnet50 or mobilenetv2 (Keras applications')
  --alpha X          mobilenetv2: the width multiplier (1.0; Keras offers 0.35 to 1.4)
  --recipe NAME      tutorial (the article's settings, the default) or robust: each image
                     standardized, warm-up + cosine schedule, label smoothing 0.1, 10% of the
                     training images held out to pick the best epoch; for ResNet-50 also
                     augmentation, AdamW, dropout before the classifier and precise batch norm
                     (50 epochs of minibatch 16, random resized crops of 16-100% of the
                     area on half the images), and so for MobileNetV2 (100 epochs, no
                     crops); the ConvNet keeps its 100 epochs
  --standardize      standardize each image (zero mean, unit variance) before the first layer
  --augment          random flips, rotations, zooms, shifts, colour jitter and erasing
  --flip MODE        with augmentation: horizontal (mirror half the images; the default) or
                     none (for classes a mirror changes: text, digits, left and right hands)
  --random-resized-crop P  with augmentation: an Inception-style crop (25-100% of the area,
                     aspect 3/4 to 4/3) stretched to the frame, for this fraction of the images
  --crop-area A      the smallest area of those crops, a fraction of the image (0.25;
                     ResNet-50's robust recipe 0.16)
  --color-temperature X    with augmentation: red and blue gains of 1 +- X (warm or cool light)
  --mixup A          with augmentation: MixUp with Beta(A, A) weights (Keras CV's default A: 0.2)
  --cutmix A         with augmentation: CutMix with Beta(A, A) areas (Keras CV's default A: 1)
  --schedule NAME    none or cosine (warm-up, then cosine decay to 0)
  --label-smoothing X   mix the one-hot labels with the uniform distribution (0)
  --weight-decay X   AdamW's decoupled weight decay (0: Adam)
  --dropout X        a Dropout of rate X before the classifier (0)
  --precise-bn       recompute batch-norm statistics after each epoch (~512 images) and at
                     the end (every training batch)
  --epochs N         total epochs (convnet 100, resnet50 and mobilenetv2 20); with --resume,
                     the total to reach
  --batch-size N     minibatch size (convnet 64, resnet50 and mobilenetv2 32)
  --lr X             learning rate (convnet 0.009, others 0.001; robust resnet50 and
                     mobilenetv2 0.002)
  --seed N           seed of the initial weights and of the shuffling (0)
  --threads N        worker threads (default: the cores, up to 8)
  --deterministic    the same bits whatever --threads (each batch cut into 4 shards)
  --data DIR         SIGNS folder (train_signs.h5, test_signs.h5) or image folder (default: SIGNS)
  --test DIR         folder of class folders to test on (default: DIR/test, or SIGNS's test set)
  --validation-split X  hold out this fraction of the training images (shuffled) for validation
  --image-size N     resize every image to N x N (64; SIGNS's are 64 x 64)
  --skip-bad-images  image folders: skip (and list) files that cannot be decoded
  --follow-links     image folders: follow symbolic links that lead outside a class folder
                     (refused otherwise; a link is followed once per real path either way)
${IMAGE_MEMORY_HELP}
  --initial-weights FILE  start from a trained model's weights (fine-tuning); layers whose
                     shapes differ (the classifier, for another class count) start fresh
  --freeze-until LAYER    do not train LAYER and every layer before it
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
  data: TrainingData;
  settings?: Settings;       // the tutorial's (default) or the robust recipe's, with any flags applied
  initialWeights?: string;   // a model file whose matching weights the new model starts from
  freezeUntil?: string;      // the last layer kept frozen
  alpha?: number;            // MobileNetV2's width multiplier
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
  test?: Logs;
  secondsPerEpoch: number;
  outDir: string;
  robustness?: Robustness;
}

export async function runTraining(o: TrainOptions): Promise<TrainOutcome> {
  let model: Model;
  let past: TrainingState | undefined;
  const settings = o.resume?.training?.settings ?? o.settings ?? TUTORIAL;
  // Held out for model selection (the robust recipe): a seeded shuffle of the training images.
  let { train, validation } = o.data;
  const { test } = o.data;
  if (settings.validationSplit > 0 && !validation) ({ train, validation } = holdOut(train, settings.validationSplit, o.resume?.training?.seed ?? o.seed));
  const stepsPerEpoch = Math.ceil(train.size / o.batchSize);
  if (o.resume) {
    model = o.resume.model;
    past = o.resume.training;
    if (!o.recipe.builds(model.name)) {
      throw new ArgumentError(`simdnet: ${o.resume.path} holds a ${model.name} model, not ${o.recipe.name} (a model file from a different architecture)`);
    }
    if (!past || !model.optimizer) throw new ArgumentError(`simdnet: ${o.resume.path} holds no training state to resume from (saved without an optimizer)`);
    if (o.learningRate !== undefined) model.optimizer.learningRate = o.learningRate;
    if (model.classNames.join('\n') !== o.data.train.classNames.join('\n')) {
      throw new ArgumentError(`simdnet: ${o.resume.path} was trained on classes ${model.classNames.join(', ')}; the data has ${o.data.train.classNames.join(', ')}`);
    }
  } else {
    model = o.recipe.build(o.seed, {
      classes: o.data.train.classes, imageSize: o.data.train.height, dropout: settings.dropout, standardizeImages: settings.standardizeImages, alpha: o.alpha,
    });
    if (o.freezeUntil !== undefined) model = frozenUntil(model, o.freezeUntil);
    model.classNames = o.data.train.classNames;
    if (o.initialWeights !== undefined) {
      const fresh = await loadWeights(model, o.initialWeights, { byName: true, skipMismatch: true });
      if (fresh.length === model.layout.ordered().length) {
        throw new UsageError(`--initial-weights ${o.initialWeights}: none of its weights fit this ${o.recipe.name} model (a model file from a different architecture?)`);
      }
      o.log(`Weights from ${o.initialWeights}` + (fresh.length ? `; starting fresh: ${fresh.join(', ')}` : ''));
    }
    compileRecipe(model, o.recipe, o.learningRate ?? settings.learningRate ?? o.recipe.learningRate, settings, o.epochs, stepsPerEpoch);
  }
  const lr = model.optimizer!.learningRate;
  const learningRate = typeof lr === 'number' ? lr : `${lr.className} ${JSON.stringify(lr.getConfig())}`;
  const done = past?.epochsDone ?? 0;
  if (o.epochs <= done) throw new UsageError(`--epochs ${o.epochs}: ${o.resume?.path} has already trained ${done} epochs; ask for more`);
  const seed = past?.seed ?? o.seed;
  const runId = past?.runId && o.resume && resolve(dirname(o.resume.path)) === resolve(o.outDir) ? past.runId : randomUUID();
  startRun(o.outDir, o.resume?.path, o.force ?? false);
  const modelFile = join(o.outDir, 'model.h5');
  const state = (epochsDone: number, history: Record<string, number[]>): TrainingState =>
    ({ epochsDone, history, seed, batchSize: o.batchSize, modelName: o.recipe.name, runId, settings });
  // Model selection on the validation set only: the weights of the epoch with the best
  // validation accuracy are the run's result (the test set is looked at once, at the end).
  const sofar = new History();
  const fitStart = performance.now();
  const { history: h, best, stopped } = await fitRecipe(model, train, settings, {
    epochs: o.epochs, initialEpoch: done, batchSize: o.batchSize, seed, threads: o.threads, deterministic: o.deterministic,
    validation, test, verbose: o.quiet ? 0 : 1, signal: o.signal,
    onEpochEnd: async (epoch, logs) => {
      // The tutorial's ConvNet prints its cost every 5 epochs.
      if (o.recipe.name === 'convnet' && epoch % 5 === 0) o.log(`Cost after epoch ${epoch}: ${logs.loss.toFixed(6)}`);
      sofar.record(epoch, logs);
      // A checkpoint per full epoch: a stop leaves model.h5 at the last one.
      await saveModel(model, modelFile, state(epoch + 1, History.concat(past?.history ?? {}, sofar).history));
    },
  });
  if (stopped) throw new InterruptedError(modelFile, 'training');
  // A stop during the evaluations, the report or the robustness suite after training ends there too.
  const checkStop = () => { if (o.signal?.aborted) throw new InterruptedError(modelFile, 'after'); };
  const fitSeconds = (performance.now() - fitStart) / 1000;
  const run = { threads: o.threads, deterministic: o.deterministic, batchSize: o.batchSize };
  const full = History.concat(past?.history ?? {}, h);
  const history = full.history;
  const times = h.history.time ?? [];
  const secondsPerEpoch = times.length ? times.reduce((a, b) => a + b, 0) / times.length : fitSeconds;

  if (best) o.log(`Kept the weights of epoch ${best.epoch + 1}, the best on the validation set (accuracy ${best.accuracy.toFixed(4)})`);
  // Confidence that means something: a temperature fitted on the held-out images.
  const K = model.outputShape[0];
  let calibration: { temperature: number; eceBefore?: number; eceAfter?: number } | undefined;
  if (validation) {
    const temperature = await calibrateTemperature(model, validation, run);
    calibration = { temperature };
    if (test) {
      const raw = (await model.predict(test, run)).data;
      calibration.eceBefore = expectedCalibrationError(model.probabilitiesOf(raw, 1), test.y.data, K);
      calibration.eceAfter = expectedCalibrationError(model.probabilitiesOf(raw), test.y.data, K);
    }
    o.log(`Calibration: temperature ${temperature.toFixed(3)} fitted on the validation split and its shifted copies` + (calibration.eceAfter === undefined ? ''
      : `; expected calibration error on the test set ${calibration.eceBefore!.toFixed(4)} -> ${calibration.eceAfter.toFixed(4)}`));
  }
  if (best || settings.preciseBn || validation) await saveModel(model, modelFile, state(o.epochs, history));
  checkStop();
  const trainEval = await model.evaluate(train, run);
  checkStop();
  const testEval = test ? await model.evaluate(test, run) : undefined;
  checkStop();
  // The report shows the test set, or the validation set when there is no test set.
  const shown = test ?? validation;
  const probs = shown ? (await model.predictProbabilities(shown, run)).data : new Float32Array(0);
  const confusion = shown ? confusionMatrix(probs, shown.y.data, shown.size, K) : [];
  const [H, W] = model.inputShape;
  const misclassified: Misclassified[] = [];
  for (let i = 0; shown && i < shown.size; i++) {
    const p = argmaxRow(probs, i, K);
    if (p !== shown.labels[i]) {
      misclassified.push({ pixels: shown.image(i), height: H, width: W, predicted: p, actual: shown.labels[i], probability: probs[i * K + p] });
    }
  }

  checkStop();
  const shifts = test ? await robustness(model, test, run) : undefined;
  checkStop();
  if (shifts) o.log(`Robustness (mean accuracy over ${shifts.shifts.length} shifts of the test images): ${shifts.mean.toFixed(4)}`);
  if (shifts) o.log(`Other-camera framings (mean accuracy over ${shifts.camera.shifts.length}: close-ups, upright hands, cut wrists, light, softness): ${shifts.camera.mean.toFixed(4)}`);

  // model.h5 holds the last epoch already (its checkpoint); the other outputs follow, each
  // naming the run it belongs to.
  const write = (name: string, text: string) => writeAtomically(join(o.outDir, name), (tmp) => writeFileSync(tmp, text));
  await write('history.json', JSON.stringify({ runId, ...full.toJSON() }, null, 2) + '\n');
  await write('history.csv', full.toCSV());
  await write('loss.svg', lossChart(history));
  await write('accuracy.svg', accuracyChart(history));
  await write('report.html', renderReport({
    title: `simdnet: ${o.recipe.title} on ${o.data.source}`,
    settings: {
      model: o.recipe.name, parameters: model.countParams().toLocaleString('en-US'), epochs: o.epochs, 'batch size': o.batchSize,
      'learning rate': learningRate, seed, threads: o.threads ?? defaultThreads(), 'seconds per epoch': secondsPerEpoch.toFixed(1),
      classes: model.classNames.join(', '), data: o.data.source,
      ...(o.resume ? { 'resumed from': o.resume.path } : {}),
      ...(o.initialWeights ? { 'initial weights': o.initialWeights } : {}),
      ...(o.freezeUntil ? { 'frozen up to': o.freezeUntil } : {}),
      ...(calibration ? { 'calibration temperature': calibration.temperature.toFixed(3) } : {}),
      ...(calibration?.eceAfter !== undefined ? { 'expected calibration error (test)': `${calibration.eceBefore!.toFixed(4)} before, ${calibration.eceAfter.toFixed(4)} after` } : {}),
      run: runId,
    },
    history,
    results: { train: trainEval, ...(testEval ? { test: testEval } : {}) },
    shownSet: test ? 'test' : 'validation',
    robustness: shifts && Object.fromEntries([...shifts.shifts.map((x) => [x.name, x.accuracy]), ['mean', shifts.mean],
      ...shifts.camera.shifts.map((x) => [`other camera: ${x.name}`, x.accuracy]), ['mean (other camera)', shifts.camera.mean]]),
    classes: model.classNames,
    confusion,
    misclassified,
  }));
  return { model, history, train: trainEval, test: testEval, secondsPerEpoch, outDir: o.outDir, robustness: shifts };
}

// The recipe's settings with the command line's changes.
function trainingSettings(r: Recipe, values: Record<string, string | undefined>, flags: Record<string, boolean | undefined>): Settings {
  const name = values.recipe ?? 'tutorial';
  if (name !== 'tutorial' && name !== 'robust') throw new UsageError(`--recipe must be "tutorial" or "robust", got "${name}"`);
  const s: Settings = { ...(name === 'robust' ? r.robust : TUTORIAL) };
  const fraction = (flag: string, max: number) => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n < max)) throw new UsageError(`--${flag} must be a number from 0 to below ${max}, got "${v}"`);
    return n;
  };
  if (flags.augment) s.augment = true;
  if (flags['precise-bn']) s.preciseBn = true;
  if (flags.standardize) s.standardizeImages = true;
  if (values.schedule !== undefined) {
    if (values.schedule !== 'none' && values.schedule !== 'cosine') throw new UsageError(`--schedule must be "none" or "cosine", got "${values.schedule}"`);
    s.schedule = values.schedule;
    if (s.schedule === 'cosine' && s.warmupEpochs === 0) s.warmupEpochs = 2;
  }
  s.labelSmoothing = fraction('label-smoothing', 1) ?? s.labelSmoothing;
  s.weightDecay = fraction('weight-decay', 1) ?? s.weightDecay;
  s.dropout = fraction('dropout', 1) ?? s.dropout;
  const unit = (flag: string) => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a number from 0 to 1, got "${v}"`);
    return n;
  };
  const alpha = (flag: string) => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !(n > 0 && n <= 10)) throw new UsageError(`--${flag} must be a number above 0 and at most 10, got "${v}"`);
    return n;
  };
  const cropArea = unit('crop-area');
  if (cropArea === 0) throw new UsageError('--crop-area must be above 0 (a crop of no area), got "0"');
  const added = {
    randomResizedCropArea: cropArea,
    randomResizedCrop: unit('random-resized-crop'), colorTemperature: unit('color-temperature'), mixup: alpha('mixup'), cutmix: alpha('cutmix'),
  };
  const given = Object.fromEntries(Object.entries(added).filter(([, v]) => v !== undefined));
  if (Object.keys(given).length) {
    s.augment = true;
    s.augmentation = { ...(s.augmentation ?? ROBUST_AUGMENTATION), ...given };
  }
  // Mirror images are not the same class for text, digits or left/right signs: --flip none.
  const flip = values.flip;
  if (flip !== undefined) {
    if (flip !== 'horizontal' && flip !== 'none') throw new UsageError(`--flip must be "horizontal" or "none", got "${flip}"`);
    s.augmentation = { ...(s.augmentation ?? ROBUST_AUGMENTATION), flip };
  }
  return s;
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

/**
 * The same model with `last` and every layer before it frozen (built again from its config,
 * since a weight's trainability decides where it lives), keeping its weights.
 */
export function frozenUntil(model: Model, last: string): Model {
  const cfg = model.getConfig();
  const at = cfg.config.layers.findIndex((l) => l.name === last);
  if (at < 0) throw new UsageError(`--freeze-until ${last}: the model has no layer "${last}" (see "simdnet summary --model ...")`);
  if (!cfg.config.layers.slice(at + 1).some((l) => model.getLayer(l.name).weights.some((w) => w.trainable))) {
    throw new UsageError(`--freeze-until ${last}: no layer after it has weights to train; freeze up to an earlier layer`);
  }
  cfg.config.layers.forEach((l, i) => { if (i <= at) l.config = { ...l.config, trainable: false }; });
  const frozen = Model.fromConfig(cfg, { initialize: false });
  frozen.setWeights(model.getWeights());
  return frozen;
}

/** Training stopped by a signal: model.h5 holds the last full epoch. */
export class InterruptedError extends SimdnetError {
  /** `stage`: where the run was when it stopped, which decides what the model file holds. */
  constructor(readonly modelFile: string, stage: 'data' | 'training' | 'after') {
    super(stage === 'data'
      ? 'simdnet: interrupted while reading the images, before training began; nothing was written'
      : stage === 'after' || !existsSync(modelFile)
        ? (stage === 'after' ? `simdnet: interrupted after training; ${modelFile} holds the trained model, but the history and the report were not written`
          : 'simdnet: interrupted during the first epoch; no epoch was complete, so nothing was saved')
        : `simdnet: interrupted; ${modelFile} holds the last full epoch: continue with --resume ${modelFile}`);
  }
}

export async function trainCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
    seed: { type: 'string' }, threads: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
    resume: { type: 'string' }, quiet: { type: 'boolean' }, deterministic: { type: 'boolean' }, force: { type: 'boolean' },
    test: { type: 'string' }, 'validation-split': { type: 'string' }, 'image-size': { type: 'string' },
    'skip-bad-images': { type: 'boolean' }, 'initial-weights': { type: 'string' }, 'freeze-until': { type: 'string' },
    recipe: { type: 'string' }, augment: { type: 'boolean' }, schedule: { type: 'string' }, 'label-smoothing': { type: 'string' },
    'weight-decay': { type: 'string' }, dropout: { type: 'string' }, 'precise-bn': { type: 'boolean' },
    standardize: { type: 'boolean' }, 'follow-links': { type: 'boolean' }, 'max-image-memory': { type: 'string' }, alpha: { type: 'string' },
    'random-resized-crop': { type: 'string' }, 'crop-area': { type: 'string' }, 'color-temperature': { type: 'string' }, mixup: { type: 'string' }, cutmix: { type: 'string' },
    flip: { type: 'string' },
  }, 'train');
  if (flags.help) return log(trainHelp);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (see "simdnet train --help")`);
  // Every flag is checked before anything slow happens.
  const epochsFlag = values.epochs === undefined ? undefined : intOption(values.epochs, 'epochs', 1);
  const batchFlag = values['batch-size'] === undefined ? undefined : intOption(values['batch-size'], 'batch-size', 1);
  const learningRate = values.lr === undefined ? undefined : floatOption(values.lr, 'lr', 1);
  const seed = intOption(values.seed, 'seed', 0, 0);
  const threads = threadsOption(values.threads);
  const validationSplit = values['validation-split'] === undefined ? undefined : floatOption(values['validation-split'], 'validation-split', 0);
  const maxDecodeBytes = imageMemoryOption(values['max-image-memory']);
  if (validationSplit !== undefined && !(validationSplit < 1)) throw new UsageError(`--validation-split must be between 0 and 1, got ${validationSplit}`);
  const imageSize = values['image-size'] === undefined ? undefined : intOption(values['image-size'], 'image-size', 64, 8, 1024);
  if (values.model !== undefined) recipe(values.model);
  const alpha = values.alpha === undefined ? undefined : floatOption(values.alpha, 'alpha', 1);
  if (alpha !== undefined && !(alpha > 0 && alpha <= 4)) throw new UsageError(`--alpha must be above 0 and at most 4, got ${values.alpha}`);
  if (alpha !== undefined && (values.model === undefined || recipe(values.model).name !== 'mobilenetv2')) throw new UsageError('--alpha is MobileNetV2\'s width multiplier: it goes with --model mobilenetv2');
  if (values.resume && (values['initial-weights'] || values['freeze-until'])) throw new UsageError('--initial-weights and --freeze-until start a new run; they do not go with --resume');
  const resume = values.resume ? { ...(await loadModel(values.resume)), path: values.resume } : undefined;
  if (resume && !resume.training) throw new ArgumentError(`simdnet: ${values.resume} holds no training state to resume from`);
  const r = recipe(values.model ?? resume?.training?.modelName);
  const settings = trainingSettings(r, values, flags);
  const outDir = resolve(values.out ?? (resume ? dirname(resume.path) : join('runs', r.name)));
  prepareOutputDir(outDir);
  // One run writes into a folder at a time.
  const unlock = lockRunFolder(outDir, log);
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
      recipe: r, epochs: epochsFlag ?? (settings.epochs || r.epochs), settings,
      batchSize: batchFlag ?? resume?.training?.batchSize ?? settings.batchSize ?? r.batchSize,
      learningRate, seed, threads, deterministic: flags.deterministic,
      data: await loadTrainingData({
        data: values.data, test: values.test, validationSplit, skipBadImages: flags['skip-bad-images'], followLinks: flags['follow-links'], maxDecodeBytes,
        // A resumed model keeps the image size it was trained at.
        imageSize: imageSize ?? resume?.model.inputShape[0],
        seed: resume?.training?.seed ?? seed, quiet: flags.quiet, log, signal: stop.signal,
      }).then((d) => {
        if (stop.signal.aborted) throw new InterruptedError(join(outDir, 'model.h5'), 'data');
        return d;
      }, (err: unknown) => {
        throw err instanceof AbortedError ? new InterruptedError(join(outDir, 'model.h5'), 'data') : err;
      }),
      initialWeights: values['initial-weights'], freezeUntil: values['freeze-until'], alpha,
      outDir, resume, force: flags.force, signal: stop.signal, quiet: flags.quiet, log,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unlock();
  }
  log(`Train accuracy: ${outcome.train.accuracy.toFixed(6)}`);
  if (outcome.test) log(`Test accuracy:  ${outcome.test.accuracy.toFixed(6)}`);
  log(`Seconds per epoch: ${outcome.secondsPerEpoch.toFixed(1)}`);
  log(`Saved ${join(outcome.outDir, 'model.h5')}, history.json, history.csv, loss.svg, accuracy.svg and report.html`);
  await outcome.model.dispose();
}
