// A reusable barrier for the workers of one step, on three Int32 words of shared memory:
// [arrived, generation, aborted]. Waiting spins briefly (a round costs ~0.15 us that way, against
// ~20 us through Atomics.wait), then sleeps in Atomics.wait, so an oversubscribed machine does
// not burn a core. It gives up when the step is aborted or a deadline passes.

const ARRIVED = 0, GENERATION = 1, ABORTED = 2;
export const BARRIER_WORDS = 4;
const SPINS = 4000;

export class BarrierError extends Error {}

export class Barrier {
  constructor(private readonly words: Int32Array, private readonly parties: number) {}

  /** Blocks until all parties arrive. `what` names the place for errors. */
  arrive(timeoutMs: number, what: string): void {
    const w = this.words;
    if (Atomics.load(w, ABORTED)) throw new BarrierError(`aborted before ${what}`);
    const gen = Atomics.load(w, GENERATION);
    if (Atomics.add(w, ARRIVED, 1) === this.parties - 1) {
      Atomics.store(w, ARRIVED, 0);
      Atomics.add(w, GENERATION, 1);
      Atomics.notify(w, GENERATION);
      return;
    }
    for (let i = 0; i < SPINS; i++) if (Atomics.load(w, GENERATION) !== gen) return;
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(w, GENERATION) === gen) {
      if (Atomics.load(w, ABORTED)) throw new BarrierError(`aborted while waiting at ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new BarrierError(`timed out after ${timeoutMs} ms waiting for the other workers at ${what}`);
      Atomics.wait(w, GENERATION, gen, Math.min(left, 250));
    }
  }

  /** Called from any thread: wakes every waiter, which then throws. */
  static abort(words: Int32Array): void {
    Atomics.store(words, ABORTED, 1);
    Atomics.notify(words, GENERATION);
  }

  static reset(words: Int32Array): void {
    Atomics.store(words, ARRIVED, 0);
    Atomics.store(words, ABORTED, 0);
  }
}
