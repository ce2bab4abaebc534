// The figures the README reports for a trained model: test accuracy in inference mode (moving
// statistics), in training mode (the statistics of each test batch of 32), both robustness
// suites' per-shift and mean accuracy (the 14 shifts, the 9 other-camera framings, and the mean
// over all 23), and the expected calibration error on the test set before and after the model's
// temperature.
//
//   node dist/bench/recipe-check.js runs/resnet50/model.h5 [more models...] [--data DIR]

import { loadSigns } from '../src/data/signs.js';
import { robustness } from '../src/cli/robustness.js';
import { loadModel } from '../src/io/model-file.js';
import { countCorrect } from '../src/training/metrics.js';
import { expectedCalibrationError } from '../src/training/calibration.js';
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
    const r = await robustness(model, test, { threads: 2 });
    const byName = (suite: typeof r.camera) => Object.fromEntries(suite.shifts.map((x) => [x.name, x.accuracy]));
    const all = [...r.shifts, ...r.camera.shifts];
    const suiteMean = all.reduce((a, x) => a + x.accuracy, 0) / all.length;
    const outputs = (await model.predict(test, { threads: 2 })).data, K = test.classes;
    const ece = { before: expectedCalibrationError(model.probabilitiesOf(outputs, 1), test.y.data, K), after: expectedCalibrationError(model.probabilitiesOf(outputs), test.y.data, K) };
    console.log(`${file}: test ${inference.toFixed(3)} (inference mode), ${batchStatistics.toFixed(3)} (batch statistics); robustness mean ${r.mean.toFixed(3)}, ` +
      `other camera ${r.camera.mean.toFixed(3)}, all ${all.length} shifts ${suiteMean.toFixed(3)}; ECE ${ece.before.toFixed(3)} -> ${ece.after.toFixed(3)} (T = ${model.temperature.toFixed(3)})`);
    console.log('  ' + all.map((x) => `${x.name} ${x.accuracy.toFixed(3)}`).join(', '));
    results.push({
      file, inference, batchStatistics, robustness: byName(r), robustnessMean: r.mean, camera: byName(r.camera), cameraMean: r.camera.mean,
      suiteMean, temperature: model.temperature, ece,
    });
    await model.dispose();
  }
  console.log(`wrote ${writeResults('recipe-check.json', { machine: machine(), results })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
