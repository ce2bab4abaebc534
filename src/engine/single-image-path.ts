// Where an engine with a worker pool runs one image: on the calling thread, or on the pool (split
// between its threads where layers are big enough). Neither wins everywhere. On the 2-core Zen 4
// (docs/performance.md, Dec 6 2026): one 64x64 image through ResNet-50 took 19.0 ms on the
// calling thread and 17.7 split on the pool; MobileNetV2 at 96x96 4.2 against 5.8, at 224x224
// 17.7 against 19.6 (its many small layers pay a barrier each); the ConvNet 0.10 against 0.42 (a
// pool step's hand-off alone costs more than its work). Both paths give the same bits, so the
// engine measures: the first single-image steps alternate between them, the rest take the faster.
// Each path's first step is not counted: it plans the step, and on the pool starts the workers
// and runs their kernels before the engine has compiled them to optimized code (880 ms against a
// settled 100-150 for one 224x224 image through ResNet-50).

/** The two places one image can run. */
export type SingleImagePath = 'calling' | 'pool';

/** Measured steps per path before the choice. */
const TRIALS = 3;

export class SingleImagePathChooser {
  // Every step's time per path, the uncounted first one included.
  private readonly times: Record<SingleImagePath, number[]> = { calling: [], pool: [] };
  private chosen?: SingleImagePath;

  /** The path for the next single-image step. */
  next(): SingleImagePath {
    if (this.chosen) return this.chosen;
    return this.times.calling.length <= this.times.pool.length ? 'calling' : 'pool';
  }

  /** Records a step's time on `path`; after TRIALS counted on each, fixes the faster (by median). */
  record(path: SingleImagePath, ms: number): void {
    if (this.chosen) return;
    this.times[path].push(ms);
    const { calling, pool } = this.times;
    if (calling.length > TRIALS && pool.length > TRIALS) {
      this.chosen = median(calling.slice(1)) <= median(pool.slice(1)) ? 'calling' : 'pool';
    }
  }

  /** The path taken from now on, once measured. */
  get choice(): SingleImagePath | undefined { return this.chosen; }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
