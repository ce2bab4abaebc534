// Exported models run in ONNX Runtime (onnxruntime-web's WebAssembly backend, in Node) and give
// simdnet's probabilities to 1e-4: the two tutorial models after a few training steps (so batch
// norm's moving statistics are not their initial values) and a model with every layer type and
// awkward shapes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-web';
import {
  Activation, Add, Concatenate, DepthwiseConv2D, mobileNetV2, Rescaling, SeparableConv2D, AveragePooling2D, BatchNormalization, Conv2D, convNet, Dense, Dropout, exportOnnx, Flatten, GlobalAveragePooling2D,
  GlobalMaxPooling2D, input, Layer, LayerNormalization, MaxPooling2D, Model, registerOnnxExporter, ReLU, resNet50, saveOnnx, tensor, ZeroPadding2D, type LayerBuffers, type StepContext, type Tensor,
} from '../../src/index.js';
import { loadSigns } from '../../src/data/signs.js';
import { saveModel } from '../../src/io/model-file.js';
import { randomArray } from '../helpers/assert.js';
import { signsDir } from '../helpers/goldens.js';
import { scratchDir } from '../helpers/scratch.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'warning';
const data = await loadSigns(signsDir);
const work = scratchDir('simdnet-onnx-');

// Runs the exported model in ONNX Runtime; fails on any warning it prints while loading (its
// WebAssembly writes straight to file descriptors 1 and 2, so those writes are caught too).
async function runOnnx(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const said: unknown[] = [];
  const saved = [console.warn, console.error, fs.writeSync] as const;
  console.warn = (...a: unknown[]) => said.push(a);
  console.error = (...a: unknown[]) => said.push(a);
  (fs as { writeSync: unknown }).writeSync = (fd: number, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) { said.push(String(rest[0])); return typeof rest[0] === 'string' ? rest[0].length : (rest[0] as Uint8Array).length; }
    return (saved[2] as (...a: unknown[]) => number)(fd, ...rest);
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 2 });
  } finally {
    console.warn = saved[0];
    console.error = saved[1];
    (fs as { writeSync: unknown }).writeSync = saved[2];
  }
  expect(said).toEqual([]);
  const r = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
  await session.release();
  return r.output.data as Float32Array;
}

function softmax(v: Float32Array, K: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < v.length / K; r++) {
    const row = v.subarray(r * K, (r + 1) * K);
    const m = Math.max(...row);
    const s = row.reduce((a, b) => a + Math.exp(b - m), 0);
    for (let k = 0; k < K; k++) out[r * K + k] = Math.exp(row[k] - m) / s;
  }
  return out;
}

async function expectSame(model: Model, x: Tensor, opset = 13): Promise<number> {
  const ours = (await model.predictProbabilities(x, { threads: 1 })).data;
  const raw = await runOnnx(exportOnnx(model, { opset }), x);
  const theirs = model.outputIsSoftmax ? raw : softmax(raw, model.outputShape[0]);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  console.log(`${model.name}: largest probability difference from ONNX Runtime ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-4);
  return worst;
}

describe('ONNX export, checked by ONNX Runtime', () => {
  test('the ConvNet after a few Adam steps', async () => {
    const m = convNet({ seed: 3 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    await m.fit(data.train.slice(0, 128), { epochs: 2, batchSize: 32, verbose: 0, threads: 1 });
    await expectSame(m, data.test.x.slice(0, 32));
  });

  test('ResNet-50 after a few steps (moving statistics moved)', async () => {
    const m = resNet50({ seed: 3 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    for (let s = 0; s < 3; s++) await m.trainOnBatch(data.train.x.slice(8 * s, 8 * s + 8), data.train.y.slice(8 * s, 8 * s + 8), { threads: 2 });
    await expectSame(m, data.test.x.slice(0, 8));
    await m.dispose();
  });

  test('every layer type, even kernels, same padding with stride 2, one channel', async () => {
    const x0 = input({ shape: [9, 7, 1] });
    let x = new LayerNormalization({ axis: [1, 2, 3], center: false, scale: false, name: 'standardize' }).apply(x0);
    x = new Conv2D({ filters: 4, kernelSize: 2, strides: 2, padding: 'same', name: 'even' }).apply(x);
    x = new BatchNormalization({ name: 'bn', momentum: 0.5 }).apply(x);
    x = new LayerNormalization({ name: 'ln_channels' }).apply(x);
    x = new LayerNormalization({ axis: [2, 3], center: false, name: 'ln_rows' }).apply(x);
    x = new Activation({ activation: 'relu' }).apply(x);
    x = new ZeroPadding2D({ padding: [[1, 0], [0, 1]] }).apply(x);
    const a = new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }).apply(x);
    const b = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c3' }).apply(a);
    let c = new Add().apply([a, b]);
    c = new ReLU().apply(c);
    c = new AveragePooling2D({ poolSize: 2, padding: 'same' }).apply(c);
    const g1 = new GlobalAveragePooling2D().apply(c);
    const g2 = new GlobalMaxPooling2D().apply(c);
    const f = new Dense({ units: 4, name: 'f' }).apply(new Flatten().apply(c));
    let v = new Add().apply([g1, g2, f]);
    v = new BatchNormalization({ name: 'bn_vector' }).apply(v);
    v = new LayerNormalization({ name: 'ln_vector' }).apply(v);
    v = new Dropout({ rate: 0.3 }).apply(v);
    const out = new Dense({ units: 3, activation: 'softmax', name: 'out' }).apply(v);
    const m = new Model({ inputs: x0, outputs: out, name: 'all_layers' });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const xs = tensor(randomArray(12 * 9 * 7, 9).map((q) => q + 0.5), [12, 9, 7, 1]);
    const ys = tensor(Float32Array.from({ length: 36 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [12, 3]);
    await m.fit(xs, ys, { epochs: 5, batchSize: 4, verbose: 0, threads: 1 });
    // Training moved the layer norms' gamma and beta away from 1 and 0.
    expect(m.getWeights()['ln_rows/gamma'].data.some((g) => Math.abs(g - 1) > 1e-3)).toBe(true);
    await expectSame(m, xs);
    await expectSame(m, xs, 18); // ReduceMean's axes as an input
  });

  test('MobileNetV2 (alpha 0.35, 64x64) after a few steps: depthwise as grouped Conv, ReLU6 as Clip', async () => {
    const m = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 4 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    for (let s = 0; s < 2; s++) await m.trainOnBatch(data.train.x.slice(8 * s, 8 * s + 8), data.train.y.slice(8 * s, 8 * s + 8), { threads: 2 });
    await expectSame(m, data.test.x.slice(0, 8));
    await m.dispose();
  });

  test('the new layers\' every option: depth multiplier, dilation, separable, leaky and thresholded ReLU, rescaling, concatenation', async () => {
    const x0 = input({ shape: [9, 8, 3] });
    const r = new Rescaling({ scale: 2, offset: -1 }).apply(x0);
    const a = new DepthwiseConv2D({ kernelSize: 3, padding: 'same', depthMultiplier: 2, dilationRate: 2, name: 'dw_dilated' }).apply(r);
    const b = new DepthwiseConv2D({ kernelSize: 2, strides: 2, padding: 'same', activation: 'relu', name: 'dw_even' }).apply(r);
    const c = new SeparableConv2D({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, name: 'sep' }).apply(a);
    let y = new Concatenate().apply([b, c]);
    y = new ReLU({ maxValue: 6, negativeSlope: 0.1, threshold: 0.2 }).apply(y);
    const p = new ReLU({ negativeSlope: 0.3 }).apply(new SeparableConv2D({ filters: 4, kernelSize: 1, useBias: false, name: 'sep_1x1' }).apply(y));
    const q = new ReLU({ maxValue: 6 }).apply(y);
    const v = new Concatenate().apply([new GlobalAveragePooling2D().apply(p), new GlobalMaxPooling2D().apply(q)]);
    const out = new Dense({ units: 3, activation: 'softmax', name: 'out' }).apply(v);
    const m = new Model({ inputs: x0, outputs: out, name: 'mobilenet_layers' });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const xs = tensor(randomArray(6 * 9 * 8 * 3, 5).map((t) => t + 0.5), [6, 9, 8, 3]);
    const ys = tensor(Float32Array.from({ length: 18 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [6, 3]);
    await m.fit(xs, ys, { epochs: 3, batchSize: 3, verbose: 0, threads: 1 });
    await expectSame(m, xs);
  });

  test('the class names travel in metadata_props; the CLI writes the file; a layer without an ONNX form is refused by name', async () => {
    const m = convNet({ seed: 1, classes: 3 });
    m.classNames = ['rock', 'paper', 'scissors'];
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const { default: onnxProto } = await import('onnx-proto');
    const proto = onnxProto.onnx.ModelProto.decode(exportOnnx(m));
    expect(JSON.parse(proto.metadataProps.find((p) => p.key === 'class_names')!.value!)).toEqual(['rock', 'paper', 'scissors']);
    const h5 = join(work, 'rps.h5'), onnxFile = join(work, 'rps.onnx');
    await saveModel(m, h5);
    const cli = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
    const r = spawnSync(process.execPath, [cli, 'export', h5, '--out', onnxFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Wrote .*rps\.onnx: ConvNet, input \(batch, 64, 64, 3\) NHWC, output \(batch, 3\) logits, classes rock, paper, scissors/);
    // The file the CLI wrote runs in ONNX Runtime and gives the model's outputs.
    const x = tensor(Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => (i % 255) / 255), [2, 64, 64, 3]);
    const fromFile = await runOnnx(new Uint8Array(fs.readFileSync(onnxFile)), x);
    const fromModel = (await m.predict(x, { threads: 1 })).data;
    for (let i = 0; i < fromModel.length; i++) expect(Math.abs(fromFile[i] - fromModel[i]), `output ${i}`).toBeLessThan(1e-4);
    const noOut = spawnSync(process.execPath, [cli, 'export', h5], { encoding: 'utf8' });
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/export needs --out FILE\.onnx/);
    // A layer class with no ONNX form: refused, naming the layer.
    class Square extends Layer {
      static override readonly className = 'Square';
      computeOutputShape(s: number[][]) { return [...s[0]]; }
      getConfig() { return { name: this.name }; }
      forward(ctx: StepContext, b: LayerBuffers) { ctx.k.dropout_backward(b.inputs[0], b.inputs[0], b.output, ctx.rows * 64 * 64 * 3); }
      backward() { /* not trained here */ }
    }
    const x0 = input({ shape: [64, 64, 3] });
    const odd = new Model({ inputs: x0, outputs: new Dense({ units: 2 }).apply(new Flatten().apply(new Square({ name: 'sq' }).apply(x0))) });
    expect(() => exportOnnx(odd)).toThrow(/cannot export layer "sq" \(Square\) to ONNX/);
    // Registered, its exporter writes it (x * x), and ONNX Runtime computes what simdnet does;
    // saveOnnx writes the same bytes to a file.
    registerOnnxExporter('Square', (ctx) => ({ name: ctx.node('Mul', [ctx.inputs[0].name, ctx.inputs[0].name]), rank: ctx.inputs[0].rank }));
    const xs = tensor(Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => ((i * 7) % 11) / 11 - 0.5), [2, 64, 64, 3]);
    const bytes = exportOnnx(odd);
    const viaOrt = await runOnnx(bytes, xs), direct = (await odd.predict(xs, { threads: 1 })).data;
    for (let i = 0; i < direct.length; i++) expect(Math.abs(viaOrt[i] - direct[i]), `output ${i}`).toBeLessThan(1e-4);
    const file = join(work, 'square.onnx');
    await saveOnnx(odd, file);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(new Uint8Array(bytes));
  });
});
