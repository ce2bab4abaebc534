// Keras's per-epoch progress bar:
//   Epoch 3/20
//   12/34 [=========>....................] - ETA: 25s - loss: 1.2345 - accuracy: 0.5432
// On a terminal the line is redrawn in place; elsewhere (logs, pipes) only the final line prints.

import { platform } from '#platform';

export interface ProgressSink {
  write(s: string): void;
  isTTY: boolean;
}

/** stdout in Node; the console in a page. */
export const stdoutSink: ProgressSink = platform.console;

export function formatDuration(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs).map(([k, v]) => ` - ${k}: ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(4) : v.toFixed(4)}`).join('');
}

export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;

  constructor(private readonly total: number, private readonly sink: ProgressSink = stdoutSink, private readonly width = 30) {}

  private bar(done: number): string {
    const filled = Math.floor((this.width * done) / this.total);
    if (done >= this.total) return '='.repeat(this.width);
    return '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? '>' : '') + '.'.repeat(this.width - Math.max(filled, 0));
  }

  update(done: number, logs: Record<string, number>): void {
    if (!this.sink.isTTY) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    const count = `${String(done).padStart(String(this.total).length)}/${this.total}`;
    this.sink.write(`\r${count} [${this.bar(done)}] - ETA: ${formatDuration(eta)}${formatLogs(logs)}\x1b[K`);
  }

  finish(logs: Record<string, number>): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const perStep = elapsed / this.total;
    const step = perStep >= 1 ? `${perStep.toFixed(0)}s/step` : `${(perStep * 1000).toFixed(0)}ms/step`;
    this.sink.write(`${this.sink.isTTY ? '\r' : ''}${this.total}/${this.total} [${this.bar(this.total)}] - ` +
      `${formatDuration(elapsed)} ${step}${formatLogs(logs)}${this.sink.isTTY ? '\x1b[K' : ''}\n`);
  }
}
