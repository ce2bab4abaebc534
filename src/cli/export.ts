// `simdnet export MODEL.h5 --out model.onnx`: the model as ONNX, for ONNX Runtime and friends.

import { resolve } from 'node:path';
import { loadModel } from '../io/model-file.js';
import { saveOnnx } from '../io/onnx-export.js';
import { unwritableOutput } from '../platform/node-files.js';
import { intOption, parse, UsageError } from './options.js';

export const exportHelp = `Usage: simdnet export MODEL.h5 --out MODEL.onnx [--opset N]

Writes the model as ONNX (standard operators, opset 13 by default): it takes the same NHWC
float input and gives the same output (probabilities, or logits) as simdnet, with the class
names in its metadata (class_names). A model with a layer that has no ONNX form is refused,
naming the layer.

Options:
  --out FILE    the ONNX file to write (required)
  --opset N     ONNX operator set, 13 or later (13)
`;

export async function exportCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, { out: { type: 'string' }, opset: { type: 'string' } }, 'export');
  if (flags.help) return log(exportHelp);
  if (positionals.length !== 1) throw new UsageError('export takes one model file (see "simdnet export --help")');
  if (values.out === undefined) throw new UsageError('export needs --out FILE.onnx');
  const opset = intOption(values.opset, 'opset', 13, 13, 30);
  // Before any work: the output must not be the input, a special file, or in a missing folder.
  const why = unwritableOutput(values.out, [positionals[0]]);
  if (why) throw new UsageError(`--out ${values.out}: ${why}`);
  const { model } = await loadModel(positionals[0], { compile: false });
  const out = resolve(values.out);
  await saveOnnx(model, out, { opset });
  log(`Wrote ${out}: ${model.name}, input (batch, ${model.inputShape.join(', ')}) NHWC, output (batch, ${model.outputShape[0]})${model.outputIsSoftmax ? ' probabilities' : ' logits'}, classes ${model.classNames.join(', ')}`);
  await model.dispose();
}
