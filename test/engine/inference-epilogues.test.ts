// Inference folds batch norm, a residual add and a clipped ReLU into the output pass of the
// convolution before them (Graph.inferenceEpilogues, assembly/epilogue.ts): which layers fold,
// the kernel against a plain reference, and whole models against the same models unfused.
import { afterAll, describe, expect, test } from 'vitest';
import {
  Activation, Add, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Flatten, input, Model, ReLU, SeparableConv2D,
  mobileNetV2, profilePredictStep, resNet50, tensor,
} from '../../src/index.js';
import { Engine } from '../../src/engine/engine.js';
import { planStep } from '../../src/engine/step-plan.js';
import type { SymbolicTensor } from '../../src/layers/layer.js';
import { expectClose, randomArray, rng } from '../helpers/assert.js';
import { harness } from '../helpers/harness.js';

const bn = (name: string, x: SymbolicTensor) => new BatchNormalization({ name }).apply(x);
const conv = (name: string, x: SymbolicTensor, filters = 8) => new Conv2D({ filters, kernelSize: 3, padding: 'same', name }).apply(x);
const relu = (name: string, x: SymbolicTensor) => new Activation({ activation: 'relu', name }).apply(x);
const withHead = (x0: SymbolicTensor, x: SymbolicTensor) =>
  new Model({ inputs: x0, outputs: new Dense({ units: 3, activation: 'softmax', name: 'fc' }).apply(new Flatten({ name: 'flatten' }).apply(x)) });
const names = (m: Model, nodes: (number | undefined)[]) => nodes.map((j) => (j === undefined ? undefined : m.graph.nodes[j].layer.name));
const chainsOf = (m: Model) => m.graph.inferenceEpilogues().chains.map((c) => ({
  producer: names(m, [c.producer])[0], batchNorm: names(m, [c.batchNorm])[0], add: names(m, [c.add])[0],
  residual: names(m, [c.residual])[0], clamp: names(m, [c.clamp])[0],
}));

// Batch norm's statistics away from their initial (identity-like) values, so that a missing or
// wrong fold changes the outputs.
function randomizeBatchNorm(m: Model, seed: number): void {
  const r = rng(seed);
  const w = m.getWeights();
  for (const [name, t] of Object.entries(w)) {
    const d = t.data as Float32Array;
    if (/moving_variance|gamma/.test(name)) for (let i = 0; i < d.length; i++) d[i] = 0.6 + 0.5 * (r() + 1);
    else if (/moving_mean|beta|bias/.test(name)) for (let i = 0; i < d.length; i++) d[i] = 0.5 * r();
  }
  m.setWeights(w);
}

const engines: Engine[] = [];
afterAll(async () => { for (const e of engines) await e.dispose(); });
async function predict(m: Model, x: Float32Array, rows: number, fuseEpilogues: boolean, threads = 1): Promise<Float32Array> {
  const e = new Engine(m.core, { threads, fuseEpilogues });
  engines.push(e);
  return e.predictStep({ x, rows });
}

describe('which layers fold into an epilogue', () => {
  test('ResNet-50: every convolution takes its batch norm; the add and the ReLU after it go to the branch computed last', () => {
    const m = resNet50();
    const chains = chainsOf(m);
    expect(chains).toHaveLength(53);
    expect(chains.filter((c) => c.add)).toHaveLength(16);
    expect(chains.filter((c) => c.clamp)).toHaveLength(48);
    // conv1's ReLU stays folded into the max pooling.
    expect(chains.find((c) => c.producer === 'conv1')).toMatchObject({ batchNorm: 'bn_conv1', clamp: undefined });
    // A convolutional block's shortcut is built after its main path: the shortcut's chain adds
    // the main path's output, which exists by then; the main path's chain stops at its batch norm.
    expect(chains.find((c) => c.producer === 'res2a_branch2c')).toMatchObject({ batchNorm: 'bn2a_branch2c', add: undefined, clamp: undefined });
    expect(chains.find((c) => c.producer === 'res2a_branch1')).toMatchObject({ batchNorm: 'bn2a_branch1', residual: 'bn2a_branch2c' });
    expect(chains.find((c) => c.producer === 'res2b_branch2c')?.add).toBeDefined();
    for (const c of m.graph.inferenceEpilogues().chains) if (c.residual !== undefined) expect(c.residual).toBeLessThan(c.producer);
  });

  test('MobileNetV2: every convolution and depthwise convolution; ReLU6 as a clamp to [0, 6]', () => {
    const m = mobileNetV2({ inputShape: [32, 32, 3], alpha: 0.35, classes: 4 });
    const { chains } = m.graph.inferenceEpilogues();
    expect(chains).toHaveLength(52);
    expect(chains.filter((c) => c.add !== undefined)).toHaveLength(10);
    expect(chains.filter((c) => c.clamp !== undefined)).toHaveLength(35);
    for (const c of chains) if (c.clamp !== undefined) expect(m.graph.nodes[c.clamp].layer.epilogueStage()).toEqual({ kind: 'clamp', lo: 0, hi: 6 });
  });

  test('not across a tensor that another layer reads, nor a residual computed later, a leaky ReLU or a convolution with its own activation', () => {
    const x0 = input({ shape: [6, 6, 3] });
    // bnA is read twice: its chain ends there.
    const a = bn('bnA', conv('convA', x0));
    const twoReaders = new Add({ name: 'addA' }).apply([relu('reluA1', a), relu('reluA2', a)]);
    // convB is read by its batch norm and by the add: nothing folds.
    const b = conv('convB', twoReaders);
    const bnB = bn('bnB', b);
    const sum = new Add({ name: 'addB' }).apply([bnB, b]);
    // The add reads bnC and bnD, and the graph's order (its inputs depth first) runs convC's
    // branch first: convC's chain stops at bnC, whose value convD's chain adds; the leaky ReLU
    // after the add does not fold.
    const c = bn('bnC', conv('convC', sum));
    const d = bn('bnD', conv('convD', sum));
    const leaky = new ReLU({ negativeSlope: 0.1, name: 'leaky' }).apply(new Add({ name: 'addCD' }).apply([c, d]));
    const own = bn('bnE', new Conv2D({ filters: 8, kernelSize: 1, activation: 'relu', name: 'convE' }).apply(leaky));
    const m = withHead(x0, own);
    expect(chainsOf(m)).toEqual([
      { producer: 'convA', batchNorm: 'bnA', add: undefined, residual: undefined, clamp: undefined },
      { producer: 'convC', batchNorm: 'bnC', add: undefined, residual: undefined, clamp: undefined },
      { producer: 'convD', batchNorm: 'bnD', add: 'addCD', residual: 'bnC', clamp: undefined },
    ]);
  });
});

describe('the epilogue kernel', () => {
  test('matches batch norm, the add and the clamp computed one after the other (odd channel counts, NaN passes)', () => {
    const h = harness();
    const k = h.rt.k;
    for (const [M, C, lo, hi, residual] of [[5, 7, 0, 6, true], [3, 16, 0, Infinity, false], [4, 1, -Infinity, Infinity, true], [2, 13, -Infinity, Infinity, false]] as const) {
      const y = randomArray(M * C, M + C), r = randomArray(M * C, 3 * C), bias = randomArray(C, 5);
      y[1] = NaN;
      const gamma = randomArray(C, 7).map((v) => 1 + v / 2), beta = randomArray(C, 8);
      const mean = randomArray(C, 9), variance = randomArray(C, 10).map((v) => 1 + v / 2);
      const eps = 1e-3;
      const want = new Float32Array(M * C);
      for (let m = 0; m < M; m++) {
        for (let c = 0; c < C; c++) {
          const i = m * C + c;
          let v = ((y[i] + bias[c]) - mean[c]) / Math.sqrt(variance[c] + eps) * gamma[c] + beta[c];
          if (residual) v += r[i];
          want[i] = Number.isNaN(v) ? NaN : Math.min(Math.max(v, lo), hi);
        }
      }
      const py = h.up(y), scale = h.alloc(C), shift = h.alloc(C);
      k.bn_fold_coefficients(h.up(gamma), h.up(beta), h.up(mean), h.up(variance), eps, h.up(bias), C, scale, shift);
      k.affine_epilogue(py, M, C, C, scale, shift, residual ? h.up(r) : 0, lo, hi);
      const got = h.get(py, M * C);
      expect(Number.isNaN(got[1]), 'NaN stays NaN').toBe(true);
      got[1] = want[1] = 0;
      expectClose(got, want, 1e-6, `M=${M} C=${C} [${lo}, ${hi}]${residual ? ' + residual' : ''}`);
    }
  });
});

describe('a model predicts the same with its epilogues fused', () => {
  test('a residual model with every kind of producer, on 1 and 2 threads; the fused plan is no larger', async () => {
    const x0 = input({ shape: [9, 9, 3] });
    let x = relu('r0', bn('bn0', conv('c0', x0)));
    const shortcut = x;
    x = new ReLU({ maxValue: 6, name: 'r6' }).apply(bn('bn1', new DepthwiseConv2D({ kernelSize: 3, padding: 'same', useBias: true, name: 'dw' }).apply(x)));
    x = bn('bn2', new SeparableConv2D({ filters: 8, kernelSize: 3, padding: 'same', name: 'sep' }).apply(x));
    x = relu('r2', new Add({ name: 'add' }).apply([x, shortcut]));
    x = bn('bnOut', conv('c3', x, 5));
    const m = withHead(x0, x);
    randomizeBatchNorm(m, 3);
    expect(m.graph.inferenceEpilogues().chains).toHaveLength(4);
    const rows = 5;
    const xs = randomArray(rows * 9 * 9 * 3, 11);
    const plain = await predict(m, xs, rows, false);
    for (const threads of [1, 2]) expectClose(await predict(m, xs, rows, true, threads), plain, 1e-5, `fused, ${threads} thread(s)`);
    expect(planStep(m.graph, rows, false, true).bytes).toBeLessThanOrEqual(planStep(m.graph, rows, false, false).bytes);
    // And it did fuse: one epilogue pass per chain, no batch norm, add or ReLU of their own.
    const calls = new Map((await profilePredictStep(m, tensor(xs, [rows, 9, 9, 3]), { warmupSteps: 1 })).kernels.map((k) => [k.kernel, k.calls]));
    expect(calls.get('affine_epilogue')).toBe(4);
    for (const k of ['bn_inference_forward', 'add', 'relu_forward', 'relu_clipped_forward']) expect(calls.get(k), k).toBeUndefined();
  });

  test('ResNet-50 and MobileNetV2 within 1e-5 of the unfused models (docs/numerics.md)', async () => {
    for (const [m, size] of [[resNet50(), 64], [mobileNetV2({ inputShape: [32, 32, 3], alpha: 0.35, classes: 6 }), 32]] as const) {
      randomizeBatchNorm(m, 5);
      const rows = 3;
      const xs = randomArray(rows * size * size * 3, 13);
      const plain = await predict(m, xs, rows, false);
      const fused = await predict(m, xs, rows, true);
      expectClose(fused, plain, 1e-5, m.name);
      // What predict() runs (fused by default) is the same.
      expectClose((await m.predict(tensor(xs, [rows, size, size, 3]), { threads: 1 })).data, fused, 0, `${m.name} predict()`);
    }
  });
});
