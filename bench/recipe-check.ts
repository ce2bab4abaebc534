// The figures the README reports for a trained model: test accuracy in inference mode (moving
// statistics), in training mode (the statistics of each test batch of 32), and the robustness
// suite's per-shift and mean accuracy.
//
//   node dist/bench/recipe-check.js runs/resnet50/model.h5 [more models...] [--data DIR]

import { loadSigns } from '../src/data/signs.js';
import { ROBUSTNESS_SHIFTS, shifted } from '../src/data/robustness.js';
import { loadModel } from '../src/io/model-file.js';
import { countCorrect } from '../src/training/metrics.js';
import { NonTrainableSnapshot } from '../src/engine/model-core.js';
import { machine, writeResults } from './report.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dataAt = argv.indexOf('--data');
  const dir = dataAt >= 0 ? argv[dataAt + 1] : undefined;
  const files = argv.filter((a, i) => a !== '--data' && (dataAt < 0 || i !== dataAt + 1));
  const { test } = await loadSigns(dir);
  const results = [];
  for (const file of files) {
    const { model } = await loadModel(file);
    const inference = (await model.evaluate(test, { threads: 2 })).accuracy!;
    // Training mode: each batch of 32 normalized with its own statistics (no weight changes;
    // the moving statistics a training-mode pass moves are put back).
    const snapshot = new NonTrainableSnapshot(model.core);
    snapshot.save();
    let right = 0;
    for (let s = 0; s < test.size; s += 32) {
      const part = test.slice(s, Math.min(test.size, s + 32));
      const { predictions } = await model.computeGradients(part.x, part.y, { threads: 2 });
      right += countCorrect(predictions.data, part.y.data, part.size, part.classes);
    }
    snapshot.restore();
    const batchStatistics = right / test.size;
    const shifts: Record<string, number> = {};
    for (const sh of ROBUSTNESS_SHIFTS) {
      const set = shifted(test, sh);
      shifts[sh.name] = countCorrect((await model.predict(set, { threads: 2 })).data, set.y.data, set.size, set.classes) / set.size;
    }
    const mean = Object.values(shifts).reduce((a, b) => a + b, 0) / ROBUSTNESS_SHIFTS.length;
    console.log(`${file}: test ${inference.toFixed(3)} (inference mode), ${batchStatistics.toFixed(3)} (batch statistics); robustness mean ${mean.toFixed(3)}`);
    console.log('  ' + Object.entries(shifts).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
    results.push({ file, inference, batchStatistics, robustness: shifts, robustnessMean: mean });
    await model.dispose();
  }
  console.log(`wrote ${writeResults('recipe-check.json', { machine: machine(), results })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
