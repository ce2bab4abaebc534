#!/usr/bin/env node
// The simdnet command line.

import { evaluateCommand, evaluateHelp } from './evaluate.js';
import { exportCommand, exportHelp } from './export.js';
import { serveCommand, serveHelp } from './serve.js';
import { UsageError } from './options.js';
import { predictCommand, predictHelp } from './predict.js';
import { reproduceCommand, reproduceHelp } from './reproduce.js';
import { summaryCommand, summaryHelp } from './summary.js';
import { InterruptedError, trainCommand, trainHelp } from './train.js';
import { VERSION } from '../version.js';

const commands: Record<string, { run: (argv: string[], log: (s: string) => void) => Promise<void>; help: string; what: string }> = {
  train: { run: trainCommand, help: trainHelp, what: 'train the ConvNet or the ResNet-50 on SIGNS' },
  evaluate: { run: evaluateCommand, help: evaluateHelp, what: 'loss, accuracy and confusion matrix of a saved model' },
  predict: { run: predictCommand, help: predictHelp, what: 'the sign shown in JPEG or PNG images' },
  summary: { run: summaryCommand, help: summaryHelp, what: 'Keras\'s summary table of a model' },
  export: { run: exportCommand, help: exportHelp, what: 'a saved model as ONNX, for ONNX Runtime and other runtimes' },
  serve: { run: serveCommand, help: serveHelp, what: 'a saved model behind HTTP (Open Inference Protocol), batching requests' },
  reproduce: { run: reproduceCommand, help: reproduceHelp, what: 'the tutorial end to end, compared with the article (npm start)' },
};

const usage = `simdnet ${VERSION}: convolutional networks trained on WebAssembly SIMD in Node.js

Usage: simdnet <command> [options]

Commands:
${Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.what}`).join('\n')}

Run "simdnet <command> --help" for a command's options.
Environment: SIMDNET_DATA (data folder), SIMDNET_THREADS (default worker threads),
SIMDNET_KERNELS (simd or relaxed-simd), SIMDNET_DEBUG=1 (stack traces on errors).
`;

async function main(argv: string[]): Promise<number> {
  const log = (s: string) => console.log(s);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    log(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    log(VERSION);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}" (expected ${Object.keys(commands).join(', ')}; see "simdnet --help")`);
  await command.run(rest, log);
  return 0;
}

// `simdnet summary --model resnet50 | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(message.startsWith('simdnet') ? message : `simdnet: ${message}`);
    if (process.env.SIMDNET_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = err instanceof UsageError ? 2 : err instanceof InterruptedError ? 130 : 1;
  },
);
