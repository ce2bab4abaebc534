// A layer written outside simdnet: registered by its own file, no edit elsewhere. Multiply has
// two inputs whose gradients differ, which is what the engine's per-input gradient temps are for:
// when both of its inputs also feed another layer, both of their gradients are redirected at once.
import { expect, test } from 'vitest';
import {
  Add, Dense, Layer, layerClass, registerLayer, sizeOf, type LayerBuffers, type Shape, type StepContext, type SymbolicTensor,
} from '../../src/index.js';
import { checkConfigRoundTrip, checkGradients } from './layer-check.js';

class Multiply extends Layer {
  static override readonly className = 'Multiply';
  computeOutputShape(inputShapes: Shape[]): Shape { return [...inputShapes[0]]; }
  getConfig() { return { name: this.name }; }
  // The element-wise product kernel is Dropout's backward (dx = dy * mask).
  forward(ctx: StepContext, b: LayerBuffers): void {
    ctx.k.dropout_backward(b.inputs[0], b.inputs[1], b.output, ctx.rows * sizeOf(this.outputShape));
  }
  backward(ctx: StepContext, b: LayerBuffers): void {
    const n = ctx.rows * sizeOf(this.outputShape);
    if (b.dInputs[0]) ctx.k.dropout_backward(b.dOutput, b.inputs[1], b.dInputs[0], n);
    if (b.dInputs[1]) ctx.k.dropout_backward(b.dOutput, b.inputs[0], b.dInputs[1], n);
  }
}
registerLayer(Multiply);

const twoProducts = () => ({
  build: (x: SymbolicTensor) => {
    const a = new Dense({ units: 4, name: 'a' }).apply(x);
    const b = new Dense({ units: 4, name: 'b' }).apply(x);
    const layer = new Multiply({ name: 'product_1' });
    const p1 = layer.apply([a, b]);
    const p2 = new Multiply({ name: 'product_2' }).apply([a, b]);
    return { out: new Add().apply([p1, p2]), layer };
  },
  inputShape: [5], outputShape: [4],
});

test('a registered layer is found by its class name', () => {
  expect(layerClass('Multiply')).toBe(Multiply);
});

test('a two-input layer whose inputs both feed another layer gets both gradients right', () => checkGradients(twoProducts(), 20));

test('a model with a layer registered outside simdnet round-trips through its config', () => checkConfigRoundTrip(twoProducts()));
