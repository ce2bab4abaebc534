// `simdnet serve MODEL.h5`: the model behind HTTP (Open Inference Protocol and a classify
// endpoint for photos), until SIGTERM or Ctrl-C, which stop it accepting, answer what is queued
// and exit 0.

import { loadModel } from '../io/model-file.js';
import { serve } from '../serve/server.js';
import { floatOption, intOption, parse, threadsOption, UsageError } from './options.js';

export const serveHelp = `Usage: simdnet serve MODEL.h5 [options]

Serves a trained model over HTTP. Endpoints (NAME is the model's name, or --name):
  GET  /v2/health/live, /v2/health/ready     liveness, readiness
  GET  /v2/models/NAME                       inputs, outputs, class names
  POST /v2/models/NAME/infer                 Open Inference Protocol (KServe v2) JSON tensors:
                                             input "input", FP32, shape [N, H, W, 3] in [0, 1]
  POST /v2/models/NAME/classify              a JPEG or PNG body: the class and its probabilities
  GET  /metrics                              Prometheus: requests, latency, batch sizes, queue
Requests arriving within --max-delay-ms of each other run as one batch of up to --max-batch
images. A full queue is answered 503 with Retry-After. SIGTERM or Ctrl-C stops accepting,
answers what is queued, and exits 0.

Options:
  --port N           TCP port (8080; 0 picks a free one)
  --host ADDR        address to listen on (127.0.0.1: this machine only; 0.0.0.0 for all)
  --name NAME        the model's name in URLs (the model's own)
  --threads N        worker threads per batch (default: the cores, up to 8)
  --max-batch N      images per batch at most (32)
  --max-delay-ms N   how long a request waits for others to batch with (5)
  --max-queue N      images waiting at most before requests are refused with 503 (256)
  --min-confidence P classify answers "unsure" (index -1) below this top probability (0: never)
  --max-body MB      request bodies at most (16)
  --drain-timeout S  on SIGTERM, how long to finish what is queued (30)
`;

export async function serveCommand(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, flags, positionals } = parse(argv, {
    port: { type: 'string' }, host: { type: 'string' }, name: { type: 'string' }, threads: { type: 'string' },
    'max-batch': { type: 'string' }, 'max-delay-ms': { type: 'string' }, 'max-queue': { type: 'string' }, 'min-confidence': { type: 'string' },
    'max-body': { type: 'string' }, 'drain-timeout': { type: 'string' },
  }, 'serve');
  if (flags.help) return log(serveHelp);
  if (positionals.length !== 1) throw new UsageError('serve takes one model file (see "simdnet serve --help")');
  const port = intOption(values.port, 'port', 8080, 0, 65535);
  const maxBatch = intOption(values['max-batch'], 'max-batch', 32, 1, 1024);
  const maxDelayMs = intOption(values['max-delay-ms'], 'max-delay-ms', 5, 0, 10_000);
  const maxQueue = intOption(values['max-queue'], 'max-queue', 256, 1, 1_000_000);
  if (maxQueue < maxBatch) throw new UsageError(`--max-queue (${maxQueue}) must be at least --max-batch (${maxBatch})`);
  const maxBodyBytes = intOption(values['max-body'], 'max-body', 16, 1, 1024) * 2 ** 20;
  const drainSeconds = intOption(values['drain-timeout'], 'drain-timeout', 30, 0, 3600);
  const threads = threadsOption(values.threads);
  const host = values.host ?? '127.0.0.1';
  const { model } = await loadModel(positionals[0], { compile: false });
  const minConfidence = values['min-confidence'] === undefined ? 0 : floatOption(values['min-confidence'], 'min-confidence', 0);
  if (!(minConfidence <= 1)) throw new UsageError(`--min-confidence must be between 0 and 1, got ${values['min-confidence']}`);
  const server = await serve(model, { port, host, name: values.name, threads, maxBatch, maxDelayMs, maxQueue, maxBodyBytes, minConfidence });
  const name = values.name ?? model.name;
  log(`Serving ${positionals[0]} (${model.name}, input ${model.inputShape.join('x')}, classes ${model.classNames.join(', ')}) at ${server.url}`);
  log(`  curl --data-binary @photo.jpg ${server.url}/v2/models/${name}/classify`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log(`${sig}: no new connections; answering the ${server.queueDepth} queued image(s), then exiting`);
      server.close(drainSeconds * 1000).then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await model.dispose();
  log('Stopped');
}
