// The robustness suite of a model on a test set: accuracy under each shift, and their mean.

import type { ImageSet } from '../data/image-set.js';
import { ROBUSTNESS_SHIFTS, shifted } from '../data/robustness.js';
import type { EvaluateArgs, Model } from '../models/model.js';
import { countCorrect } from '../training/metrics.js';

export interface Robustness { shifts: { name: string; accuracy: number }[]; mean: number }

export async function robustness(model: Model, test: ImageSet, run: EvaluateArgs): Promise<Robustness> {
  const shifts = [];
  for (const s of ROBUSTNESS_SHIFTS) {
    const set = shifted(test, s);
    const probs = (await model.predict(set, run)).data;
    shifts.push({ name: s.name, accuracy: countCorrect(probs, set.y.data, set.size, set.classes) / set.size });
  }
  return { shifts, mean: shifts.reduce((a, s) => a + s.accuracy, 0) / shifts.length };
}

export function robustnessLines(r: Robustness): string[] {
  const w = Math.max(...r.shifts.map((s) => s.name.length), 4);
  return [...r.shifts.map((s) => `${s.name.padEnd(w)}  ${s.accuracy.toFixed(4)}`), `${'mean'.padEnd(w)}  ${r.mean.toFixed(4)}`];
}
