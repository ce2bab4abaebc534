// The prediction server: a trained model behind HTTP, speaking the Open Inference Protocol
// (KServe v2) REST endpoints as Triton documents them, plus a plain endpoint for a photo:
//
//   GET  /v2/health/live, /v2/health/ready, /v2, /v2/models/{name}, /v2/models/{name}/ready
//   POST /v2/models/{name}/infer     JSON tensors in, JSON tensors out
//   POST /v2/models/{name}/classify  a JPEG or PNG body; the class, its index, every probability
//   GET  /metrics                    Prometheus text
//
// Requests are batched (batcher.ts) onto one model and one engine. Every bad request gets its
// status and a one-line "simdnet:" message; none can stop the server. A body over maxBodyBytes
// is refused from its Content-Length, or as soon as that many bytes have come.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ArgumentError, DataFileError, SimdnetError } from '../errors.js';
import { decodeImageSource, resizeRgb } from '../data/images.js';
import { unitFloatsFromBytes } from '../kernels/unit-floats.js';
import type { Model } from '../models/model.js';
import { VERSION } from '../version.js';
import { Batcher, OverloadedError, type BatcherOptions } from './batcher.js';

/** Options of serve(): where to listen and how to batch. */
export interface ServeOptions extends BatcherOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default '127.0.0.1' (this machine only); '0.0.0.0' is a deliberate choice. */
  host?: string;
  /** The model's name in URLs. Default: the model's own name. */
  name?: string;
  /** Request bodies at most, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** classify answers "unsure" (index -1) where the top probability is below this. Default 0 (never). */
  minConfidence?: number;
}

/** A running prediction server: its address, and close() to drain and stop it. */
export interface Server {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  /** Images waiting for a batch. */
  readonly queueDepth: number;
  /** Stops accepting connections, answers what is queued, then resolves (within timeoutMs, default 30 s). */
  close(timeoutMs?: number): Promise<void>;
}

class HttpError extends SimdnetError {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message.startsWith('simdnet: ') ? message : `simdnet: ${message}`);
  }
}

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';

// The body, at most `limit` bytes: refused from Content-Length before reading, or when the
// bytes read pass the limit (the connection is then closed).
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `the request body is ${declared} bytes, over the ${limit}-byte limit`));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `the request body passed the ${limit}-byte limit`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

// Nested arrays (row-major) or a flat array, as the protocol allows, to numbers; `count` values.
function flatNumbers(data: unknown, count: number): Float32Array {
  const out = new Float32Array(count);
  let n = 0;
  // Depth-first in row-major order (nesting is at most the shape's four levels deep in valid data).
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `input "${INPUT_NAME}": value ${n} is ${JSON.stringify(v)}, not a finite number`);
    if (n >= count) throw new HttpError(400, `input "${INPUT_NAME}": more values than its shape holds (${count})`);
    out[n++] = v;
  };
  if (!Array.isArray(data)) throw new HttpError(400, `input "${INPUT_NAME}": "data" must be an array`);
  walk(data);
  if (n !== count) throw new HttpError(400, `input "${INPUT_NAME}": ${n} values, but its shape holds ${count}`);
  return out;
}

/**
 * Serves `model` over HTTP (Open Inference Protocol), batching requests. Resolves once it
 * listens.
 *
 * @example
 * const server = await serve(model, { port: 8080, maxBatch: 32, maxDelayMs: 5 });
 * // curl -X POST --data-binary @photo.jpg http://127.0.0.1:8080/v2/models/ConvNet/classify
 * await server.close();
 */
export async function serve(model: Model, options: ServeOptions = {}): Promise<Server> {
  const name = options.name ?? model.name;
  if (!/^[\w.-]{1,128}$/.test(name)) throw new ArgumentError(`serve: the model name must be 1-128 letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`);
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 2 ** 20;
  const host = options.host ?? '127.0.0.1';
  const batcher = new Batcher(model, options);
  const [H, W, C] = model.inputShape;
  const features = model.inputShape.reduce((a, b) => a * b, 1);
  const K = model.outputShape[0];
  const names = model.classNames;
  let draining = false;

  const registry = new Registry();
  const requests = new Counter({ name: 'simdnet_requests_total', help: 'Requests by endpoint and status', labelNames: ['endpoint', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'simdnet_request_seconds', help: 'Request latency by endpoint', labelNames: ['endpoint'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const batches = new Histogram({ name: 'simdnet_batch_size', help: 'Images per batch run', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] });
  const batchSeconds = new Histogram({ name: 'simdnet_batch_seconds', help: 'Time to run a batch', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  new Gauge({ name: 'simdnet_queue_depth', help: 'Images waiting for a batch', registers: [registry], collect() { this.set(batcher.depth); } });
  batcher.onBatch = (images, seconds) => {
    batches.observe(images);
    batchSeconds.observe(seconds);
  };

  const metadata = {
    name, versions: ['1'], platform: `simdnet ${VERSION}`,
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, ...model.inputShape] }],
    outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [-1, K] }],
    parameters: { class_names: names, output: model.outputIsSoftmax ? 'probabilities' : 'logits', layout: 'NHWC', max_batch_size: batcher.maxBatch },
  };

  // classify's probabilities: the model's, calibrated by its temperature (infer returns the raw output).
  const probabilities = (out: Float32Array) => model.probabilitiesOf(out);
  const minConfidence = options.minConfidence ?? 0;
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) throw new ArgumentError(`serve: minConfidence must be between 0 and 1, got ${JSON.stringify(options.minConfidence)}`);

  async function infer(req: IncomingMessage, gone: () => boolean): Promise<unknown> {
    const body = await readBody(req, maxBodyBytes);
    let r: { id?: unknown; inputs?: unknown; outputs?: unknown };
    try {
      r = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `the request body is not valid JSON (${(err as Error).message})`);
    }
    if (!r || typeof r !== 'object' || !Array.isArray(r.inputs) || r.inputs.length !== 1) {
      throw new HttpError(400, `an inference request needs "inputs": one tensor named "${INPUT_NAME}"`);
    }
    const t = r.inputs[0] as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
    if (t.name !== INPUT_NAME) throw new HttpError(400, `unknown input ${JSON.stringify(t.name)} (the model's input is "${INPUT_NAME}")`);
    if (t.datatype !== 'FP32') throw new HttpError(400, `input "${INPUT_NAME}": datatype ${JSON.stringify(t.datatype)}; the model takes FP32`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d)) || shape[1] !== H || shape[2] !== W || shape[3] !== C || !(shape[0] >= 1)) {
      throw new HttpError(400, `input "${INPUT_NAME}": shape ${JSON.stringify(shape)}; the model takes [N, ${H}, ${W}, ${C}] (NHWC)`);
    }
    const rows = shape[0] as number;
    if (rows > batcher.maxBatch) throw new HttpError(400, `input "${INPUT_NAME}": ${rows} images in one request, more than a batch holds (${batcher.maxBatch})`);
    const x = flatNumbers(t.data, rows * features);
    const out = await batcher.run(x, rows, gone);
    return {
      model_name: name, model_version: '1', ...(r.id !== undefined ? { id: r.id } : {}),
      outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [rows, K], data: Array.from(out) }],
    };
  }

  async function classify(req: IncomingMessage, gone: () => boolean): Promise<unknown> {
    const body = await readBody(req, maxBodyBytes);
    if (body.length === 0) throw new HttpError(400, 'the request body is empty; send a JPEG or PNG image');
    let img;
    try {
      img = await decodeImageSource(new Uint8Array(body.buffer, body.byteOffset, body.length), 'the request body');
    } catch (err) {
      if (err instanceof DataFileError) throw new HttpError(400, (err as Error).message);
      throw err;
    }
    const x = new Float32Array(features);
    unitFloatsFromBytes(resizeRgb(img, H, W), x);
    const p = probabilities(await batcher.run(x, 1, gone));
    let top = 0;
    for (let k = 1; k < K; k++) if (p[k] > p[top]) top = k;
    const sure = p[top] >= minConfidence;
    return { class: sure ? names[top] : 'unsure', index: sure ? top : -1, probabilities: Object.fromEntries(names.map((n, k) => [n, p[k]])) };
  }

  const route = (method: string, path: string): { endpoint: string; allow: string; run?: (req: IncomingMessage, gone: () => boolean) => Promise<unknown> } => {
    const get = (endpoint: string, value: () => unknown) => ({ endpoint, allow: 'GET', run: method === 'GET' ? async () => value() : undefined });
    const post = (endpoint: string, fn: (req: IncomingMessage, gone: () => boolean) => Promise<unknown>) => ({ endpoint, allow: 'POST', run: method === 'POST' ? fn : undefined });
    const ready = () => {
      if (draining) throw new HttpError(503, 'the server is shutting down');
      return { ready: true };
    };
    if (path === '/v2/health/live') return get('live', () => ({ live: true }));
    if (path === '/v2/health/ready') return get('ready', ready);
    if (path === '/v2') return get('server', () => ({ name: 'simdnet', version: VERSION, extensions: [] }));
    if (path === '/metrics') return { endpoint: 'metrics', allow: 'GET', run: method === 'GET' ? async () => new MetricsText(await registry.metrics()) : undefined };
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/1)?(\/ready|\/infer|\/classify)?$/.exec(path);
    if (m) {
      let model: string;
      try {
        model = decodeURIComponent(m[1]);
      } catch {
        model = m[1];
      }
      if (model !== name) return { endpoint: 'unknown', allow: '' };
      if (m[2] === '/ready') return get('model_ready', ready);
      if (m[2] === '/infer') return post('infer', infer);
      if (m[2] === '/classify') return post('classify', classify);
      return get('model_metadata', () => metadata);
    }
    return { endpoint: 'unknown', allow: '' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const t0 = performance.now();
    let gone = false;
    res.on('close', () => { if (!res.writableFinished) gone = true; });
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '/';
    }
    const r = route(req.method ?? 'GET', path);
    let status = 200, body: unknown, headers: Record<string, string> = {};
    try {
      if (r.allow === '') throw new HttpError(404, `no such route or model: ${req.method} ${path} (the model is "${name}")`);
      if (!r.run) throw new HttpError(405, `${req.method} is not allowed on ${path} (use ${r.allow})`, { allow: r.allow });
      body = await r.run(req, () => gone);
    } catch (err) {
      if (err instanceof HttpError) ({ status, headers } = err);
      else if (err instanceof OverloadedError) [status, headers] = [503, { 'retry-after': '1' }];
      else if (err instanceof ArgumentError || err instanceof DataFileError) status = 400;
      else status = 500;
      const message = err instanceof Error ? err.message : String(err);
      body = { error: (message.startsWith('simdnet') ? message : `simdnet: ${message}`).split('\n')[0] };
    }
    requests.inc({ endpoint: r.endpoint, status: String(status) });
    latency.observe({ endpoint: r.endpoint }, (performance.now() - t0) / 1000);
    if (gone || res.headersSent) return;
    const text = body instanceof MetricsText ? body.text : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': body instanceof MetricsText ? registry.contentType : 'application/json',
      'content-length': Buffer.byteLength(text),
      ...(status === 413 ? { connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A failure while answering (the socket gone): nothing to tell anyone.
      if (!res.headersSent) res.destroy();
    });
  });
  // A client that sends its request slowly or never gives up its socket.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ArgumentError(`serve: cannot listen on ${host}:${options.port ?? 8080}: ${err.code ?? err.message}`)));
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    get queueDepth() { return batcher.depth; },
    async close(timeoutMs = 30_000) {
      draining = true;
      // No new connections; the open ones finish their requests (readiness now answers 503).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([batcher.drained(), deadline]);
      // What was queued is answered: idle keep-alive connections go now, the rest after their
      // response (or at the deadline).
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      await Promise.race([closed, deadline]);
      clearInterval(idle);
      server.closeAllConnections();
    },
  };
}

class MetricsText {
  constructor(readonly text: string) {}
}
