// A layer of your own: Swish (x · sigmoid(x)) written in JavaScript on the kernels' memory,
// registered so that model files and Model.fromConfig know it, then trained in a model.
//   node examples/custom-layer.mjs
import { Conv2D, Dense, Flatten, input, Layer, loadModel, Model, registerLayer, saveModel, sizeOf, tensor } from 'simdnet';

class Swish extends Layer {
  static className = 'Swish';
  computeOutputShape([shape]) { return [...shape]; }
  getConfig() { return { name: this.name }; }
  // forward and backward get byte offsets into the kernels' memory (ctx.k.memory).
  forward(ctx, b) {
    const n = ctx.rows * sizeOf(this.outputShape);
    const mem = ctx.k.memory.buffer;
    const x = new Float32Array(mem, b.inputs[0], n), y = new Float32Array(mem, b.output, n);
    for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
  }
  backward(ctx, b) {
    if (!b.dInputs[0]) return;
    const n = ctx.rows * sizeOf(this.outputShape);
    const mem = ctx.k.memory.buffer;
    const x = new Float32Array(mem, b.inputs[0], n), dy = new Float32Array(mem, b.dOutput, n), dx = new Float32Array(mem, b.dInputs[0], n);
    for (let i = 0; i < n; i++) {
      const s = 1 / (1 + Math.exp(-x[i]));
      dx[i] = dy[i] * (s + x[i] * s * (1 - s));
    }
  }
}
registerLayer(Swish);

const x0 = input({ shape: [8, 8, 1] });
let x = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x0);
x = new Swish().apply(x);
const out = new Dense({ units: 2, activation: 'softmax' }).apply(new Flatten().apply(x));
const model = new Model({ inputs: x0, outputs: out, name: 'with_swish' });
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

// A toy task: is the bright square in the top half or the bottom half?
const n = 64, xs = new Float32Array(n * 64), ys = new Float32Array(n * 2);
for (let i = 0; i < n; i++) {
  const top = i % 2 === 0, r = (top ? 0 : 4) + (i % 3), c = i % 6;
  xs[i * 64 + r * 8 + c] = 1;
  ys[i * 2 + (top ? 0 : 1)] = 1;
}
const h = await model.fit(tensor(xs, [n, 8, 8, 1]), tensor(ys, [n, 2]), { epochs: 30, batchSize: 16, verbose: 0, threads: 1 });
console.log(`accuracy ${h.history.accuracy.at(-1).toFixed(2)} after 30 epochs`);
const { model: again } = await loadModel(await saveModel(model));
console.log(`reloaded with layers: ${again.layers.map((l) => l.className).join(', ')}`);
await Promise.all([model.dispose(), again.dispose()]);
