// A per-layer and per-kernel profile of one training step, or with --predict one inference step
// (one thread, batch 32; ResNet-50 by default), to pick the next optimization from data. Writes
// bench/results/profile-MODEL[-predict].json.
//
//   npm run bench:profile [-- --batch N] [-- --model convnet|mobilenetv2] [-- --size 96] [-- --predict]

import { resNet50 } from '../src/models/resnet50.js';
import { convNet } from '../src/models/convnet.js';
import { mobileNetV2 } from '../src/models/mobilenetv2.js';
import { tensor } from '../src/tensor.js';
import { profilePredictStep, profileTrainingStep } from '../src/models/profiler.js';
import { table, writeResults, machine } from './report.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const batchAt = argv.indexOf('--batch');
  const batch = batchAt >= 0 ? Number(argv[batchAt + 1]) : 32;
  const which = argv.includes('convnet') ? 'convnet' : argv.includes('mobilenetv2') ? 'mobilenetv2' : 'resnet50';
  const sizeAt = argv.indexOf('--size');
  const size = sizeAt >= 0 ? Number(argv[sizeAt + 1]) : which === 'mobilenetv2' ? 96 : 64;
  const shape = [size, size, 3];
  const model = which === 'convnet' ? convNet({ inputShape: shape }) : which === 'mobilenetv2' ? mobileNetV2({ inputShape: shape }) : resNet50({ inputShape: shape });
  model.compile({ optimizer: 'adam', loss: which === 'convnet' ? 'softmaxCrossEntropy' : 'categoricalCrossentropy' });
  const x = tensor(Float32Array.from({ length: batch * size * size * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000), [batch, size, size, 3]);
  const y = tensor(Float32Array.from({ length: batch * 6 }, (_, i) => (i % 6 === Math.floor(i / 6) % 6 ? 1 : 0)), [batch, 6]);
  const predict = argv.includes('--predict');
  const p = predict ? await profilePredictStep(model, x) : await profileTrainingStep(model, x, y);
  console.log(`${which} ${size}x${size} ${predict ? 'inference' : 'training'} step, batch ${batch}, one thread, ${model.core.runtime.variant} kernels: ${p.totalMs.toFixed(0)} ms`);

  const byType = new Map<string, { ms: number; layers: number }>();
  for (const l of p.layers) {
    // Folded and fused layers grouped by type, not by the layer that applies them.
    const kernel = l.kernel?.replace(/ into .*/, '');
    const key = `${l.type}${kernel ? ` (${kernel})` : ''} ${l.phase}`;
    const e = byType.get(key) ?? { ms: 0, layers: 0 };
    e.ms += l.ms; e.layers++;
    byType.set(key, e);
  }
  const types = [...byType.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log('\nTime per layer type and pass');
  console.log(table(['layer type, pass', 'layers', 'ms', 'share'], types.map(([k, v]) => [k, v.layers, v.ms, `${((100 * v.ms) / p.totalMs).toFixed(1)}%`])));
  console.log('\nTime per kernel');
  console.log(table(['kernel', 'calls', 'ms', 'share'], p.kernels.map((k) => [k.kernel, k.calls, k.ms, `${((100 * k.ms) / p.totalMs).toFixed(1)}%`])));
  const top = [...p.layers].sort((a, b) => b.ms - a.ms).slice(0, 12);
  console.log('\nSlowest layers');
  console.log(table(['layer', 'type', 'kernel', 'pass', 'ms'], top.map((l) => [l.layer, l.type, l.kernel ?? '', l.phase, l.ms])));
  console.log(`\nwrote ${writeResults(`profile-${which}${predict ? '-predict' : ''}.json`, { machine: machine(), model: which, batch, predict, ...p })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
