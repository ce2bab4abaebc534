// Export a saved model to ONNX and run it in ONNX Runtime (npm install onnxruntime-web, or
// onnxruntime-node): the same probabilities as simdnet's.
//   node examples/export-onnx.mjs model.h5 [model.onnx]
import * as ort from 'onnxruntime-web';
import { exportOnnx, loadModel, loadSigns } from 'simdnet';
import { writeFileSync } from 'node:fs';

const [file, out = 'model.onnx'] = process.argv.slice(2);
if (!file) throw new Error('usage: node examples/export-onnx.mjs MODEL.h5 [model.onnx]');
const { model } = await loadModel(file);
const bytes = exportOnnx(model);
writeFileSync(out, bytes);
console.log(`wrote ${out} (${bytes.length} bytes)`);

const x = (await loadSigns()).test.x.slice(0, 4); // NHWC in [0, 1], as simdnet takes them
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(bytes);
const { output } = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
const ours = await model.predict(x);
let worst = 0;
for (let i = 0; i < ours.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - output.data[i]));
console.log(`ONNX Runtime and simdnet differ by at most ${worst.toExponential(1)}`);
await model.dispose();
