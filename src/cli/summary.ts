// `simdnet summary`: Keras's summary table of a named model or of a saved one.

import { loadModel } from '../io/model-file.js';
import { floatOption, intOption, parse, UsageError } from './options.js';
import { recipe } from './recipe-choice.js';

export const summaryHelp = `Usage: simdnet summary --model convnet|resnet50|mobilenetv2 [--image-size N] [--classes N] [--alpha X]
       simdnet summary MODEL.h5

Prints Keras's model summary: layers, output shapes, parameters and connections. A named model
is built for SIGNS (64 x 64 images, 6 classes) unless --image-size and --classes say otherwise;
--alpha is MobileNetV2's width multiplier (1.0).
`;

export async function summaryCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    model: { type: 'string' }, 'image-size': { type: 'string' }, classes: { type: 'string' }, alpha: { type: 'string' },
  }, 'summary');
  if (flags.help) return log(summaryHelp);
  if ((values.model === undefined) === (positionals.length === 0) || positionals.length > 1) {
    throw new UsageError('summary takes --model NAME or one model file (see "simdnet summary --help")');
  }
  const shaped = values['image-size'] !== undefined || values.classes !== undefined || values.alpha !== undefined;
  if (shaped && values.model === undefined) throw new UsageError('--image-size, --classes and --alpha shape a named model (--model), not a model file');
  const r = values.model === undefined ? undefined : recipe(values.model);
  if (values.alpha !== undefined && r?.name !== 'mobilenetv2') throw new UsageError('--alpha is MobileNetV2\'s width multiplier: it goes with --model mobilenetv2');
  const model = r ? r.build(0, {
    imageSize: values['image-size'] === undefined ? undefined : intOption(values['image-size'], 'image-size', 64, 8, 1024),
    classes: values.classes === undefined ? undefined : intOption(values.classes, 'classes', 6, 2, 100000),
    alpha: values.alpha === undefined ? undefined : floatOption(values.alpha, 'alpha', 1),
  }) : (await loadModel(positionals[0], { compile: false })).model;
  model.summary({ printFn: log });
}
