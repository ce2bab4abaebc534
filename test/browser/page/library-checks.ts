// What the browser tests run inside the page, through the library's public API as a page gets it
// (the imports of src/ are pointed at /dist/browser/simdnet.js when this is bundled). Results go
// back to Node as plain arrays, where they are compared with the goldens and with Node's own run.
import * as simdnet from '../../../src/browser.js';
import { setGoldenWeights } from '../../helpers/golden-weights.js';

type Arrays = Record<string, number[]>;
const plain = (t: { data: Float32Array }) => Array.from(t.data);

async function fetchBlob(path: string): Promise<Blob> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.blob();
}

// Pins what Node's side pins (SIMDNET_* there), so both run the same kernels.
export function pin(settings: Record<string, string>, convAlgorithm: simdnet.ConvAlgorithmChoice, gemm: simdnet.GemmBlocking): void {
  simdnet.setSettings(settings);
  simdnet.setConvAlgorithm(convAlgorithm);
  simdnet.setGemmBlocking(gemm);
}

export function info(): simdnet.RuntimeInfo {
  return simdnet.runtimeInfo({ measurePeak: true });
}

// The goldens' model cases: predictions and gradients of the model built with the portable
// weights, on the golden batch.
export async function modelGolden(which: 'convnet' | 'resnet50', x: number[], xShape: number[], labels: number[], labelShape: number[], grads: string[]) {
  const model = which === 'convnet' ? simdnet.convNet() : simdnet.resNet50();
  setGoldenWeights(model);
  model.compile({ optimizer: 'adam', loss: which === 'convnet' ? 'softmaxCrossEntropy' : 'categoricalCrossentropy' });
  const xs = simdnet.tensor(Float32Array.from(x), xShape), ys = simdnet.tensor(Float32Array.from(labels), labelShape);
  const predicted = await model.predict(xs, { threads: 1 });
  const r = await model.computeGradients(xs, ys, { threads: 1 });
  const out: Arrays = { predicted: plain(predicted), training: plain(r.predictions), loss: [r.loss] };
  for (const g of grads) out[g] = plain(r.grads[g]);
  await model.dispose();
  return out;
}

// The ConvNet trained on SIGNS from the two .h5 files as a page gets them (Blobs).
export async function trainConvNet(epochs: number, threads: number, deterministic: boolean) {
  const data = await simdnet.loadSigns({
    train: await fetchBlob('/shared/data/signs/train_signs.h5'),
    test: await fetchBlob('/shared/data/signs/test_signs.h5'),
  });
  const model = simdnet.convNet({ seed: 0 });
  model.compile({ optimizer: new simdnet.Adam({ learningRate: 0.009 }), loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
  const t0 = performance.now();
  const h = await model.fit(data.train.x, data.train.y, { epochs, batchSize: 64, verbose: 0, threads, deterministic, seed: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const weights: Arrays = {};
  for (const [k, v] of Object.entries(model.getWeights())) weights[k] = plain(v);
  const test = await model.evaluate(data.test.x, data.test.y, { threads });
  await model.dispose();
  return { loss: h.history.loss, weights, test, seconds, images: epochs * data.train.x.shape[0] };
}

// Probabilities of a model file (fetched as a Blob, as a user's file pick gives it) on the
// first n SIGNS test images.
// The first n test images' probabilities, predicted `times` times in a row (one image on a pool
// runs on the calling thread or split on the workers: the engine measures both, then picks).
export async function predictFile(modelPath: string, n: number, threads: number, times = 1) {
  const { model } = await simdnet.loadModel(await fetchBlob(modelPath));
  const data = await simdnet.loadSigns({
    train: await fetchBlob('/shared/data/signs/train_signs.h5'),
    test: await fetchBlob('/shared/data/signs/test_signs.h5'),
  });
  const runs = [];
  for (let i = 0; i < times; i++) runs.push(...plain(await model.predict(data.test.x.slice(0, n), { threads })));
  await model.dispose();
  return runs;
}

// saveModel with no path: the file's bytes, which loadModel reads back (and the CLI, from disk);
// exportOnnx's bytes; the profiler's per-layer times.
export async function saveAndReload() {
  // Layer names count up per session (input_1, input_2, ...): start from a fresh one, as Node's side does.
  simdnet.clearSession();
  const model = simdnet.convNet({ seed: 5 });
  model.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
  const bytes = await simdnet.saveModel(model);
  const { model: back } = await simdnet.loadModel(bytes);
  const same = Object.entries(model.getWeights()).every(([k, v]) => v.data.every((x, i) => x === back.getWeights()[k].data[i]));
  const onnx = simdnet.exportOnnx(model);
  const x = simdnet.tensor(new Float32Array(4 * 64 * 64 * 3).fill(0.25), [4, 64, 64, 3]);
  const y = simdnet.tensor(Float32Array.from({ length: 24 }, (_, i) => (i % 6 === 0 ? 1 : 0)), [4, 6]);
  const profile = await simdnet.profileTrainingStep(model, x, y, { warmupSteps: 1 });
  return { bytes: Array.from(bytes), same, onnx: Array.from(onnx), profiledLayers: profile.layers.map((l) => l.layer), profileMs: profile.totalMs };
}

// The one-line message of a bad input, and the page still working after it.
export async function badInputs() {
  const messages: string[] = [];
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      messages.push('no error');
    } catch (err) {
      messages.push((err as Error).message);
    }
  };
  await attempt(() => simdnet.loadModel(new Blob([new Uint8Array(1000).fill(7)])));
  await attempt(() => simdnet.loadModel(new File([new TextEncoder().encode('not a model')], 'notes.h5')));
  await attempt(() => simdnet.loadModel('model.h5'));
  await attempt(() => simdnet.readImages([new File([new Uint8Array([1, 2, 3, 4])], 'photo.jpg')], 64, 64));
  return messages;
}

// Decoding in the page: a PNG (the browser's decoder) and a JPEG (jpeg-js), as RGB bytes.
export async function decode(path: string) {
  const img = await simdnet.decodeImageSource(await fetchBlob(path), path);
  return { width: img.width, height: img.height, data: Array.from(img.data) };
}

// MobileNetV2 (alpha 0.35, 48x48: its depthwise kernels, ReLU6, rescaling) trained for two
// deterministic steps on SIGNS's first 24 images resized in the page; loss and weights.
export async function trainMobileNet(threads: number) {
  const data = await simdnet.loadSigns({
    train: await fetchBlob('/shared/data/signs/train_signs.h5'),
    test: await fetchBlob('/shared/data/signs/test_signs.h5'),
  });
  const set = data.train.slice(0, 24).resized(48, 48);
  const model = simdnet.mobileNetV2({ alpha: 0.35, inputShape: [48, 48, 3], seed: 3 });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const losses = [];
  for (let s = 0; s < 2; s++) losses.push((await model.trainOnBatch(set.x.slice(12 * s, 12 * s + 12), set.y.slice(12 * s, 12 * s + 12), { threads, deterministic: true })).loss);
  const weights: Arrays = {};
  for (const [k, v] of Object.entries(model.getWeights())) weights[k] = plain(v);
  await model.dispose();
  return { losses, weights };
}
