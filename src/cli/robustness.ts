// The robustness suites of a model on a test set: accuracy under each shift, and their means.

import type { ImageSet } from '../data/image-set.js';
import { CAMERA_SHIFTS, ROBUSTNESS_SHIFTS, shifted, type Shift } from '../data/robustness.js';
import type { EvaluateArgs, Model } from '../models/model.js';
import { countCorrect } from '../training/metrics.js';

export interface Suite { shifts: { name: string; accuracy: number }[]; mean: number }
/** The 14 shifts (`mean`, comparable with earlier runs) and the other-camera framings (`camera`). */
export interface Robustness extends Suite { camera: Suite }

async function suite(model: Model, test: ImageSet, run: EvaluateArgs, list: Shift[]): Promise<Suite> {
  const shifts = [];
  for (const s of list) {
    const set = shifted(test, s);
    const probs = (await model.predict(set, run)).data;
    shifts.push({ name: s.name, accuracy: countCorrect(probs, set.y.data, set.size, set.classes) / set.size });
  }
  return { shifts, mean: shifts.reduce((a, s) => a + s.accuracy, 0) / shifts.length };
}

export async function robustness(model: Model, test: ImageSet, run: EvaluateArgs): Promise<Robustness> {
  return { ...(await suite(model, test, run, ROBUSTNESS_SHIFTS)), camera: await suite(model, test, run, CAMERA_SHIFTS) };
}

export function robustnessLines(r: Robustness): string[] {
  const w = Math.max(...[...r.shifts, ...r.camera.shifts].map((s) => s.name.length), 4);
  const lines = (x: Suite, mean: string) => [...x.shifts.map((s) => `${s.name.padEnd(w)}  ${s.accuracy.toFixed(4)}`), `${mean.padEnd(w)}  ${x.mean.toFixed(4)}`];
  return [...lines(r, 'mean'), '', 'other-camera framings:', ...lines(r.camera, 'mean (other camera)')];
}
