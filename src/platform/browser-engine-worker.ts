// An engine thread in a page: a module Web Worker that runs engine/worker.ts's shard step for
// each task the pool posts (the same task, over the same shared memory, as a piscina worker).

import runTask from '../engine/worker.js';
import type { StepTask } from '../engine/protocol.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<{ id: number; task: StepTask }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { id, task } = e.data;
  try {
    scope.postMessage({ id, reply: runTask(task) });
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
