// A client of `simdnet serve` (the Open Inference Protocol, as Triton and KServe speak it):
// checks the server is ready, reads the model's metadata, then classifies a photo and sends one
// JSON inference request. Start the server first:
//   simdnet serve model.h5 --port 8080 --name signs
//   node examples/serve-client.mjs http://127.0.0.1:8080 signs photo.jpg
import { readFileSync } from 'node:fs';

const [base = 'http://127.0.0.1:8080', name = 'signs', photo] = process.argv.slice(2);
const get = async (path) => (await fetch(base + path)).json();

console.log('live:', (await fetch(`${base}/v2/health/live`)).status === 200);
console.log('ready:', (await fetch(`${base}/v2/models/${name}/ready`)).status === 200);
const meta = await get(`/v2/models/${name}`);
console.log(`model ${meta.name}: input ${JSON.stringify(meta.inputs[0].shape)}, classes ${meta.parameters.class_names.join(', ')}`);

if (photo) {
  const r = await fetch(`${base}/v2/models/${name}/classify`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: readFileSync(photo) });
  const c = await r.json();
  console.log(`${photo}: ${c.class} (${(100 * c.probabilities[c.class]).toFixed(1)}%)`);
}

// One grey image as a JSON tensor, NHWC in [0, 1].
const [, H, W, C] = meta.inputs[0].shape;
const body = { id: 'grey', inputs: [{ name: meta.inputs[0].name, datatype: 'FP32', shape: [1, H, W, C], data: new Array(H * W * C).fill(0.5) }] };
const r = await fetch(`${base}/v2/models/${name}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const answer = await r.json();
console.log(`infer ${answer.id}: ${answer.outputs[0].name} ${JSON.stringify(answer.outputs[0].shape)}`);
