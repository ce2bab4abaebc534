// Dynamic batching, as Triton's batcher does it: requests that arrive within maxDelayMs of the
// first one waiting run together as one batch of up to maxBatch images on the model's threads;
// each caller gets its rows back. Batches run on worker threads (even with one thread), so the
// server goes on reading requests while one runs. The queue is bounded: past maxQueue images a request is turned
// away (the server answers 503), never queued without end. A request whose client went away is
// dropped from its batch before it runs.

import { SimdnetError } from '../errors.js';
import type { Model } from '../models/model.js';
import { tensor } from '../tensor.js';

/** The queue is full: the caller should retry later. */
export class OverloadedError extends SimdnetError {}

export interface BatcherOptions {
  /** Images per batch at most. Default 32. */
  maxBatch?: number;
  /** How long the first image waiting may wait for others, in ms. Default 5. */
  maxDelayMs?: number;
  /** Images waiting at most; past it, requests are refused. Default 256. */
  maxQueue?: number;
  /** Worker threads of each batch. Default: the model's default. */
  threads?: number;
}

interface Waiting {
  x: Float32Array;          // rows x features, one request's images
  rows: number;
  arrived: number;
  cancelled: () => boolean;
  resolve: (out: Float32Array) => void;
  reject: (err: Error) => void;
}

export class Batcher {
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  private queue: Waiting[] = [];
  private queued = 0;             // images waiting
  private running = false;
  private timer?: ReturnType<typeof setTimeout>;
  private idleWaiters: (() => void)[] = [];
  /** Called with the size of each batch run (the metrics' histogram). */
  onBatch?: (images: number, seconds: number) => void;

  constructor(private readonly model: Model, private readonly options: BatcherOptions = {}) {
    this.maxBatch = options.maxBatch ?? 32;
    this.maxDelayMs = options.maxDelayMs ?? 5;
    this.maxQueue = options.maxQueue ?? 256;
  }

  /** Images waiting for a batch. */
  get depth(): number {
    return this.queued;
  }

  /** The model's outputs for `rows` images (rows x features in x), once their batch has run. */
  run(x: Float32Array, rows: number, cancelled: () => boolean = () => false): Promise<Float32Array> {
    if (rows > this.maxBatch) return Promise.reject(new OverloadedError(`simdnet: ${rows} images in one request, more than a batch holds (${this.maxBatch}); send at most ${this.maxBatch}`));
    if (this.queued + rows > this.maxQueue) return Promise.reject(new OverloadedError(`simdnet: the queue is full (${this.queued} images waiting); retry shortly`));
    return new Promise((resolve, reject) => {
      this.queue.push({ x, rows, arrived: performance.now(), cancelled, resolve, reject });
      this.queued += rows;
      this.schedule();
    });
  }

  /** Resolves when nothing waits and nothing runs. */
  async drained(): Promise<void> {
    while (this.running || this.queue.length) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queued >= this.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch();
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.queue[0].arrived + this.maxDelayMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runBatch();
    }, wait);
  }

  private async runBatch(): Promise<void> {
    if (this.running) return;
    // Requests whose clients left cost nothing further.
    for (const w of this.queue.filter((q) => q.cancelled())) {
      this.queued -= w.rows;
      w.reject(new SimdnetError('simdnet: the client went away'));
    }
    this.queue = this.queue.filter((q) => !q.cancelled());
    const batch: Waiting[] = [];
    let rows = 0;
    while (this.queue.length && rows + this.queue[0].rows <= this.maxBatch) {
      const w = this.queue.shift()!;
      batch.push(w);
      rows += w.rows;
    }
    this.queued -= rows;
    if (batch.length === 0) return this.settle();
    this.running = true;
    const features = batch[0].x.length / batch[0].rows;
    const x = new Float32Array(rows * features);
    let at = 0;
    for (const w of batch) {
      x.set(w.x, at);
      at += w.x.length;
    }
    const t0 = performance.now();
    try {
      const out = (await this.model.predict(tensor(x, [rows, ...this.model.inputShape]), { batchSize: rows, threads: this.options.threads, offMainThread: true })).data;
      this.onBatch?.(rows, (performance.now() - t0) / 1000);
      const K = out.length / rows;
      let row = 0;
      for (const w of batch) {
        w.resolve(out.slice(row * K, (row + w.rows) * K));
        row += w.rows;
      }
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
    } finally {
      this.running = false;
      this.settle();
    }
  }

  private settle(): void {
    if (this.queue.length) this.schedule();
    else if (!this.running) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
