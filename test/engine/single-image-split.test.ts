// One image on several threads: each convolution on the GEMM path with an epilogue splits its
// output channels between the threads (Layer.splitsOutputChannels, shard-step's runSplitStep),
// the other layers run on the first thread. The split must change no bit of the outputs.
import { afterAll, describe, expect, test } from 'vitest';
import {
  Activation, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Flatten, input, Model, SeparableConv2D, mobileNetV2, resNet50, setConvAlgorithm,
} from '../../src/index.js';
import { Engine } from '../../src/engine/engine.js';
import { channelShare } from '../../src/layers/channel-split.js';
import { SingleImagePathChooser } from '../../src/engine/single-image-path.js';
import type { LayerBuffers, StepContext } from '../../src/layers/layer.js';
import { randomArray } from '../helpers/assert.js';
import { harness } from '../helpers/harness.js';

const engines: Engine[] = [];
afterAll(async () => {
  setConvAlgorithm('auto');
  for (const e of engines) await e.dispose();
});
async function predictOne(m: Model, x: Float32Array, threads: number, splitSingleImages = true): Promise<{ out: Float32Array; split: boolean }> {
  const e = new Engine(m.core, { threads, splitSingleImages, singleImagePath: 'pool' });
  engines.push(e);
  const out = await e.predictStep({ x, rows: 1 });
  return { out, split: e.lastStep.split };
}

describe('the column kernels', () => {
  test('conv2d_forward_columns pieces make conv2d_forward bit for bit; the epilogue on a column block leaves the rest', () => {
    const h = harness(), k = h.rt.k;
    for (const [H, C, KS, F, stride] of [[5, 3, 3, 19, 1], [6, 8, 1, 24, 2], [4, 16, 1, 33, 1]]) {
      const pad = KS === 3 ? 1 : 0, OH = Math.floor((H + 2 * pad - KS) / stride) + 1, M = OH * OH;
      const x = h.up(randomArray(H * H * C, H + C)), w = h.up(randomArray(KS * KS * C * F, F));
      const cols = KS === 1 && stride === 1 ? 0 : h.alloc(M * KS * KS * C);
      const ws = h.rt.arena.alloc(k.gemm_workspace_bytes());
      const whole = h.alloc(M * F), pieces = h.alloc(M * F);
      k.conv2d_forward(x, w, 0, whole, 1, H, H, C, KS, KS, F, stride, pad, pad, OH, OH, cols, ws);
      for (let t = 0; t < 3; t++) {
        const [f0, f1] = channelShare(F, t, 3);
        k.conv2d_forward_columns(x, w, pieces, 1, H, H, C, KS, KS, F, stride, pad, pad, OH, OH, f0, f1, cols, ws);
      }
      expect(h.get(pieces, M * F), `H=${H} C=${C} K=${KS} F=${F}`).toEqual(h.get(whole, M * F));
    }
    // Channels 8..16 of 20, rows 20 apart: the others stay as they were.
    const y = randomArray(3 * 20, 1), py = h.up(y), ones = h.up(new Float32Array(8).fill(2)), zeros = h.up(new Float32Array(8));
    k.affine_epilogue(py + 32, 3, 8, 20, ones, zeros, 0, 0, Infinity);
    const got = h.get(py, 60);
    for (let i = 0; i < 60; i++) expect(got[i], `value ${i}`).toBe(i % 20 >= 8 && i % 20 < 16 ? Math.fround(Math.max(0, 2 * y[i])) : y[i]);
  });

  test('depthwise_conv2d_forward_channels pieces make depthwise_conv2d_forward bit for bit', () => {
    const h = harness(), k = h.rt.k;
    for (const [H, C, stride, pad, bias] of [[7, 19, 1, 1, true], [8, 24, 2, 0, false], [5, 6, 2, 1, true]] as const) {
      const OH = Math.floor((H + 2 * pad - 3) / stride) + 1, n = OH * OH * C;
      const x = h.up(randomArray(H * H * C, H)), w = h.up(randomArray(9 * C, C)), b = bias ? h.up(randomArray(C, 2)) : 0;
      const whole = h.alloc(n), pieces = h.alloc(n);
      k.depthwise_conv2d_forward(x, w, b, whole, 1, H, H, C, 3, 3, stride, 1, pad, pad, OH, OH);
      for (let t = 0; t < 3; t++) {
        const [c0, c1] = channelShare(C, t, 3);
        k.depthwise_conv2d_forward_channels(x, w, b, pieces, 1, H, H, C, 3, 3, stride, 1, pad, pad, OH, OH, c0, c1);
      }
      expect(h.get(pieces, n), `H=${H} C=${C} stride ${stride}`).toEqual(h.get(whole, n));
    }
  });

  test('channel shares start at multiples of 8 and cover every channel once', () => {
    for (const [C, n] of [[64, 2], [2048, 2], [6, 2], [33, 3], [8, 4]]) {
      const shares = Array.from({ length: n }, (_, t) => channelShare(C, t, n));
      expect(shares[0][0]).toBe(0);
      expect(shares[n - 1][1]).toBe(C);
      for (let t = 1; t < n; t++) expect(shares[t][0]).toBe(shares[t - 1][1]);
      for (const [a, b] of shares) if (b > a) expect(a % 8).toBe(0);
    }
  });
});

describe('a model on one image', () => {
  test('ResNet-50 and MobileNetV2: two threads split the image and give one thread\'s outputs bit for bit', async () => {
    for (const [m, size] of [[resNet50(), 64], [mobileNetV2({ inputShape: [48, 48, 3], alpha: 0.35, classes: 6 }), 48]] as const) {
      const x = randomArray(size * size * 3, 7);
      const one = await predictOne(m, x, 1);
      const two = await predictOne(m, x, 2);
      const unsplit = await predictOne(m, x, 2, false);
      expect([one.split, two.split, unsplit.split]).toEqual([false, true, false]);
      expect(two.out, m.name).toEqual(one.out);
      expect(unsplit.out).toEqual(one.out);
    }
  });

  test('auto: the first eight steps alternate between the calling thread and the split pool, the rest take one; all the same bits', async () => {
    const m = mobileNetV2({ inputShape: [48, 48, 3], alpha: 0.35, classes: 6 });
    const x = randomArray(48 * 48 * 3, 9);
    const e = new Engine(m.core, { threads: 2 });
    engines.push(e);
    const first = await e.predictStep({ x, rows: 1 });
    const paths = [e.lastStep.callingThread];
    for (let i = 1; i < 11; i++) {
      expect(await e.predictStep({ x, rows: 1 }), `step ${i}`).toEqual(first);
      paths.push(e.lastStep.callingThread);
      if (!e.lastStep.callingThread) expect(e.lastStep.split).toBe(true);
    }
    expect(paths.slice(0, 8)).toEqual([true, false, true, false, true, false, true, false]);
    expect(new Set(paths.slice(8)).size).toBe(1);
    // A batch stays on the pool; so does one image of an engine kept off the calling thread.
    await e.predictStep({ x: randomArray(2 * 48 * 48 * 3, 2), rows: 2 });
    expect(e.lastStep.callingThread).toBe(false);
    const off = new Engine(m.core, { threads: 2, offMainThread: true });
    engines.push(off);
    for (let i = 0; i < 3; i++) {
      expect(await off.predictStep({ x, rows: 1 })).toEqual(first);
      expect(off.lastStep).toEqual({ threads: 2, split: true, callingThread: false });
    }
  });

  test('the chooser keeps the faster path by the median of three steps each, each path\'s first step not counted', () => {
    const c = new SingleImagePathChooser();
    const times = { calling: [1, 5, 9, 5], pool: [900, 4, 4, 30] };
    for (let i = 0; i < 4; i++) for (const p of ['calling', 'pool'] as const) {
      expect(c.next()).toBe(p);
      c.record(p, times[p][i]);
    }
    expect(c.choice).toBe('pool');
    c.record('calling', 0.1);
    expect(c.next()).toBe('pool');
  });

  test('the im2col path forced everywhere, odd channel counts, depthwise and separable layers, a batch of two left unsplit', async () => {
    setConvAlgorithm('im2col');
    try {
      const x0 = input({ shape: [32, 32, 8] });
      let h = new Conv2D({ filters: 229, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x0);
      h = new Activation({ activation: 'relu', name: 'r1' }).apply(new BatchNormalization({ name: 'bn1' }).apply(h));
      h = new BatchNormalization({ name: 'bn3' }).apply(new DepthwiseConv2D({ kernelSize: 3, padding: 'same', name: 'dw' }).apply(h));
      h = new BatchNormalization({ name: 'bn2' }).apply(new Conv2D({ filters: 21, kernelSize: 3, strides: 2, name: 'c2' }).apply(h));
      h = new BatchNormalization({ name: 'bn4' }).apply(new SeparableConv2D({ filters: 11, kernelSize: 3, name: 'sep' }).apply(h));
      const m = new Model({ inputs: x0, outputs: new Dense({ units: 4, name: 'fc' }).apply(new Flatten({ name: 'f' }).apply(h)) });
      const x = randomArray(32 * 32 * 8, 3);
      const one = await predictOne(m, x, 1), two = await predictOne(m, x, 2);
      expect(two.split).toBe(true);
      expect(two.out).toEqual(one.out);
      // Which layers split (all but the separable one, which reads every depthwise channel).
      const e = engines[engines.length - 1];
      const ctx = { kernels: e.kernelChoices, rows: 1 } as unknown as StepContext;
      const splitting = m.graph.inferenceEpilogues().chains.map((c) => m.graph.nodes[c.producer].layer)
        .filter((l) => l.splitsOutputChannels(ctx, { epilogue: {} } as LayerBuffers)).map((l) => l.name);
      expect(splitting).toEqual(['c1', 'dw', 'c2']);
      const batch = new Engine(m.core, { threads: 2 });
      engines.push(batch);
      await batch.predictStep({ x: randomArray(2 * 32 * 32 * 8, 4), rows: 2 });
      expect(batch.lastStep).toEqual({ threads: 2, split: false, callingThread: false });
    } finally {
      setConvAlgorithm('auto');
    }
  });
});
