// `simdnet summary`: Keras's summary table of a named model or of a saved one.

import { loadModel } from '../io/model-file.js';
import { parse, UsageError } from './options.js';
import { recipe } from './recipe-choice.js';

export const summaryHelp = `Usage: simdnet summary --model convnet|resnet50
       simdnet summary MODEL.h5

Prints Keras's model summary: layers, output shapes, parameters and connections.
`;

export async function summaryCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, { model: { type: 'string' } }, 'summary');
  if (flags.help) return log(summaryHelp);
  if ((values.model === undefined) === (positionals.length === 0) || positionals.length > 1) {
    throw new UsageError('summary takes --model NAME or one model file (see "simdnet summary --help")');
  }
  const model = values.model !== undefined ? recipe(values.model).build(0) : (await loadModel(positionals[0], { compile: false })).model;
  model.summary({ printFn: log });
}
