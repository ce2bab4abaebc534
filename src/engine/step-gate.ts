/**
 * Whether a step of a model is under way: its worker threads then write the weights, the
 * optimizer state and the moving statistics in shared memory. A reader that must see one whole
 * step (saveModel, saveOnnx, loadWeights) waits at the gate for the step under way to end and
 * then reads without yielding; a synchronous reader (getWeights, ...) cannot wait, and is refused
 * while a step runs.
 */
export class StepGate {
  private running = 0;
  private waiting: (() => void)[] = [];

  get busy(): boolean {
    return this.running > 0;
  }

  enter(): void {
    this.running++;
  }

  leave(): void {
    if (--this.running === 0) for (const wake of this.waiting.splice(0)) wake();
  }

  /** Resolves when no step runs. The caller must then read without awaiting anything between. */
  async idle(): Promise<void> {
    while (this.running > 0) await new Promise<void>((wake) => this.waiting.push(wake));
  }
}
