// The robust recipe's pieces against direct computations: schedules against Keras's formulas,
// label smoothing, augmentation transforms, precise batch norm, and the callbacks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BatchNormalization, CategoricalCrossentropy, Conv2D, convNet, Dense, Flatten, input, Model, tensor, type Tensor,
} from '../../src/index.js';
import { augmentImage, checkAugmentation, mixFor, warp } from '../../src/data/augmentation.js';
import { handBox, withClutter } from '../../src/data/background.js';
import { ImageSet } from '../../src/data/image-set.js';
import { loadSigns } from '../../src/data/signs.js';
import { ModelCheckpoint } from '../../src/io/model-checkpoint.js';
import { EarlyStopping, LearningRateScheduler } from '../../src/training/callbacks.js';
import { AdamW } from '../../src/training/optimizers.js';
import { CosineDecay, ExponentialDecay, PiecewiseConstantDecay } from '../../src/training/schedules.js';
import { randomArray } from '../helpers/assert.js';
import { signsDir } from '../helpers/goldens.js';
import { testScratchDir } from '../helpers/scratch.js';

const data = await loadSigns(signsDir);

describe('learning-rate schedules, as Keras computes them', () => {
  test('CosineDecay with warm-up', () => {
    const s = new CosineDecay({ initialLearningRate: 0.0001, warmupTarget: 0.001, warmupSteps: 10, decaySteps: 100, alpha: 0.1 });
    expect(s.at(0)).toBeCloseTo(0.0001, 12);
    expect(s.at(5)).toBeCloseTo(0.0001 + 0.0009 * 0.5, 12);
    expect(s.at(10)).toBeCloseTo(0.001, 12);
    // Keras: (1 - alpha) * 0.5 * (1 + cos(pi * step / decaySteps)) + alpha, times the target
    expect(s.at(60)).toBeCloseTo(0.001 * (0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.5)) + 0.1), 12);
    expect(s.at(110)).toBeCloseTo(0.0001, 12);
    expect(s.at(500)).toBeCloseTo(0.0001, 12);
    expect(new CosineDecay({ initialLearningRate: 1, decaySteps: 4 }).at(2)).toBeCloseTo(0.5, 12);
  });
  test('ExponentialDecay (staircase: step decay) and PiecewiseConstantDecay', () => {
    expect(new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }).at(15)).toBeCloseTo(0.1 * 0.5 ** 1.5, 12);
    expect(new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true }).at(15)).toBeCloseTo(0.05, 12);
    const p = new PiecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    expect([p.at(0), p.at(10), p.at(11), p.at(20), p.at(21)]).toEqual([1, 1, 0.5, 0.5, 0.1]);
  });
  test('the optimizer uses the schedule at its step count; LearningRateScheduler sets the rate per epoch', async () => {
    const m = convNet({ seed: 1 });
    const schedule = new PiecewiseConstantDecay({ boundaries: [0], values: [0.01, 1e-9] });
    const opt = new AdamW({ learningRate: schedule, weightDecay: 0.5 });
    m.compile({ optimizer: opt, loss: 'softmaxCrossEntropy' });
    const w0 = m.getWeights()['fc/kernel'].data;
    const x = data.train.x.slice(0, 8), y = data.train.y.slice(0, 8);
    await m.trainOnBatch(x, y, { threads: 1 });
    const w1 = m.getWeights()['fc/kernel'].data;
    await m.trainOnBatch(x, y, { threads: 1 });
    const w2 = m.getWeights()['fc/kernel'].data;
    // Step 1 at 0.01 moved the weights (and decayed them by 1 - 0.01 * 0.5); step 2 at 1e-9 barely.
    expect(Math.max(...w1.map((v, i) => Math.abs(v - w0[i])))).toBeGreaterThan(1e-4);
    expect(Math.max(...w2.map((v, i) => Math.abs(v - w1[i])))).toBeLessThan(1e-7);
    const seen: number[] = [];
    const lrs = new LearningRateScheduler((epoch) => 0.001 * (epoch + 1));
    await m.fit(x, y, { epochs: 3, verbose: 0, threads: 1, callbacks: [lrs, { onEpochEnd: () => { seen.push(m.optimizer!.learningRate as number); } }] });
    expect(seen).toEqual([0.001, 0.002, 0.003]);
  });
});

test('label smoothing against a direct computation, in training and in evaluation', async () => {
  const x0 = input({ shape: [4] });
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'd' }).apply(x0) });
  const s = 0.2;
  m.compile({ optimizer: 'sgd', loss: new CategoricalCrossentropy({ fromLogits: true, labelSmoothing: s }) });
  const x = tensor(randomArray(5 * 4, 3), [5, 4]);
  const y = tensor(Float32Array.from({ length: 15 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [5, 3]);
  const logits = (await m.predict(x, { threads: 1 })).data;
  let want = 0;
  for (let r = 0; r < 5; r++) {
    const row = Array.from(logits.subarray(3 * r, 3 * r + 3));
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    for (let k = 0; k < 3; k++) want -= (y.data[3 * r + k] * (1 - s) + s / 3) * (row[k] - lse);
  }
  want /= 5;
  expect((await m.evaluate(x, y, { threads: 1 })).loss).toBeCloseTo(want, 5);
  expect((await m.computeGradients(x, y, { threads: 1 })).loss).toBeCloseTo(want, 5);
});

describe('augmentation transforms against direct references', () => {
  const H = 5, W = 4;
  const img = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37) % 256);
  const at = (a: ArrayLike<number>, y: number, x: number, c: number) => a[(y * W + x) * 3 + c];
  test('flip, rotation by 90 degrees (on a square), crop (zoom in), brightness', () => {
    const out = new Float32Array(H * W * 3);
    warp(img, H, W, out, { flip: true });
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) expect(out[(y * W + x) * 3 + c]).toBeCloseTo(at(img, y, W - 1 - x, c) / 255, 6);
    const S = 4, sq = Uint8Array.from({ length: S * S * 3 }, (_, i) => (i * 53) % 256), rot = new Float32Array(S * S * 3);
    warp(sq, S, S, rot, { angle: Math.PI / 2 });
    // A quarter turn: out(y, x) = in(S-1-x, y)
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) expect(rot[(y * S + x) * 3 + c]).toBeCloseTo(sq[((S - 1 - x) * S + y) * 3 + c] / 255, 5);
    const zoom = new Float32Array(H * W * 3);
    warp(img, H, W, zoom, { scale: 2 });
    // Scale 2 about the centre: out(y, x) = in(cy + (y - cy) / 2, cx + (x - cx) / 2), bilinear.
    const cy = (H - 1) / 2, cx = (W - 1) / 2;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const yi = cy + (y - cy) / 2, xi = cx + (x - cx) / 2;
      const y0 = Math.floor(yi), x0 = Math.floor(xi), wy = yi - y0, wx = xi - x0;
      const v = (at(img, y0, x0, 1) * (1 - wx) + at(img, y0, Math.min(x0 + 1, W - 1), 1) * wx) * (1 - wy) +
        (at(img, Math.min(y0 + 1, H - 1), x0, 1) * (1 - wx) + at(img, Math.min(y0 + 1, H - 1), Math.min(x0 + 1, W - 1), 1) * wx) * wy;
      expect(zoom[(y * W + x) * 3 + 1]).toBeCloseTo(v / 255, 5);
    }
    const bright = new Float32Array(H * W * 3);
    // brightness only, drawn within +-0.3: every pixel moves by the same amount, clipped to [0, 1]
    augmentImage(img, H, W, bright, { brightness: 0.3 }, 7, 0, 0);
    const d = bright[0] - img[0] / 255;
    expect(Math.abs(d)).toBeLessThanOrEqual(0.3);
    for (let i = 0; i < img.length; i++) expect(bright[i]).toBeCloseTo(Math.min(1, Math.max(0, img[i] / 255 + d)), 5);
  });
  test('background: the hand box bounds the skin-coloured pixels (plus the margin); clutter goes only outside it', () => {
    const S = 32, pale = [225, 222, 218], skin = [200, 150, 120];
    const photo = new Uint8Array(S * S * 3);
    for (let i = 0; i < S * S; i++) photo.set(pale, 3 * i);
    // A "hand" of rows 10-24, columns 6-13, and one stray warm pixel that must not stretch the box.
    for (let y = 10; y < 25; y++) for (let x = 6; x < 14; x++) photo.set(skin, (y * S + x) * 3);
    photo.set(skin, (2 * S + 30) * 3);
    const box = handBox(photo, S, S);
    expect(box).toEqual({ top: 8, left: 4, bottom: 27, right: 16 });
    let h = 1;
    const u = () => ((h = (h * 1103515245 + 12345) % 2147483648) / 2147483648);
    const out = withClutter(photo, S, S, box, u);
    let changed = 0;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const inside = y >= box.top && y < box.bottom && x >= box.left && x < box.right;
      const same = [0, 1, 2].every((c) => out[(y * S + x) * 3 + c] === photo[(y * S + x) * 3 + c]);
      if (inside) expect(same, `(${y}, ${x})`).toBe(true);
      else if (!same) changed++;
    }
    expect(changed).toBeGreaterThan(0.5 * (S * S - 19 * 12));
    // No skin (a blank wall): the box is the whole image, nothing is pasted.
    expect(handBox(new Uint8Array(S * S * 3).fill(230), S, S)).toEqual({ top: 0, left: 0, bottom: S, right: S });
    // The augmentation option pastes with probability `background`, from its own stream: the
    // other draws are as without it.
    const b = new Float32Array(S * S * 3);
    augmentImage(photo, S, S, b, { brightness: 0.2, background: 1 }, 5, 1, 2);
    const c = new Float32Array(S * S * 3);
    augmentImage(photo, S, S, c, { brightness: 0.2 }, 5, 1, 2);
    // The same brightness draw with and without the background; only the outside differs.
    for (let y = box.top; y < box.bottom; y++) for (let x = box.left; x < box.right; x++) {
      for (let ch = 0; ch < 3; ch++) expect(b[(y * S + x) * 3 + ch], `(${y}, ${x})`).toBe(c[(y * S + x) * 3 + ch]);
    }
    expect(Array.from(b)).not.toEqual(Array.from(c));
  });
  test('draws depend on (seed, epoch, image) only', () => {
    const a = new Float32Array(H * W * 3), b = new Float32Array(H * W * 3), c = new Float32Array(H * W * 3);
    const opts = { flip: 'horizontal' as const, rotation: 0.1, zoom: 0.2, translation: 0.1, contrast: 0.3, erasing: 0.5 };
    augmentImage(img, H, W, a, opts, 1, 2, 3);
    augmentImage(img, H, W, b, opts, 1, 2, 3);
    augmentImage(img, H, W, c, opts, 1, 3, 3);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });
});

describe('random resized crops and colour temperature', () => {
  const S = 32;
  // A white 4x4 square at the centre of a black image.
  const img = new Uint8Array(S * S * 3);
  for (let y = 14; y < 18; y++) for (let x = 14; x < 18; x++) img.fill(255, (y * S + x) * 3, (y * S + x) * 3 + 3);
  const white = (a: Float32Array) => { let n = 0; for (let i = 0; i < S * S; i++) if (a[3 * i] > 0.5) n++; return n; };

  test('a stretch scales across and down by scale x stretch and scale / stretch', () => {
    const out = new Float32Array(S * S * 3);
    warp(img, S, S, out, { scale: 2, stretch: 2 }); // 4x wide, 1x high: 16 x 4 pixels
    let cols = 0, rows = 0;
    for (let x = 0; x < S; x++) if (out[(16 * S + x) * 3] > 0.5) cols++;
    for (let y = 0; y < S; y++) if (out[(y * S + 16) * 3] > 0.5) rows++;
    expect(cols).toBeGreaterThanOrEqual(15); expect(cols).toBeLessThanOrEqual(17);
    expect(rows).toBeGreaterThanOrEqual(3); expect(rows).toBeLessThanOrEqual(5);
  });

  test('crops enlarge (25-100% of the area: up to 2x across), differ per image and epoch, and leave other options\' draws alone', () => {
    const sizes = [];
    for (let image = 0; image < 40; image++) {
      const out = new Float32Array(S * S * 3);
      augmentImage(img, S, S, out, { randomResizedCrop: 1 }, 3, 0, image);
      sizes.push(white(out));
    }
    // The square's 16 pixels grow by the area ratio 1/s (1 to 4) when the crop keeps it in view.
    expect(Math.max(...sizes)).toBeGreaterThan(24);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(80);
    expect(new Set(sizes).size).toBeGreaterThan(5);
    const opts = { flip: 'horizontal' as const, rotation: 0.05, zoom: 0.2, brightness: 0.2 };
    const a = new Float32Array(S * S * 3), b = new Float32Array(S * S * 3);
    augmentImage(img, S, S, a, opts, 3, 1, 5);
    augmentImage(img, S, S, b, { ...opts, randomResizedCrop: 0, colorTemperature: 0 }, 3, 1, 5);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  test('randomResizedCropArea sets the smallest crop: the enlargement goes up to its inverse', () => {
    const largest = (least: number) => {
      let most = 0;
      for (let image = 0; image < 200; image++) {
        const out = new Float32Array(S * S * 3);
        augmentImage(img, S, S, out, { randomResizedCrop: 1, randomResizedCropArea: least }, 3, 0, image);
        most = Math.max(most, white(out));
      }
      return most;
    };
    // The 16-pixel square grows by 1/area when the crop keeps it in view: at most ~1.1x with a
    // 90% floor; with a 16% floor some crops reach more than 4x (beyond the default 25% floor).
    expect(largest(0.9)).toBeLessThanOrEqual(24);
    expect(largest(0.16)).toBeGreaterThan(64);
    expect(largest(0.16)).toBeLessThanOrEqual(16 / 0.16 + 16);
    expect(() => checkAugmentation({ randomResizedCropArea: 0 })).toThrow(/augmentation randomResizedCropArea must be a number above 0 and at most 1, got 0/);
  });

  test('colour temperature moves red and blue in opposite directions', () => {
    const grey = new Uint8Array(8 * 8 * 3).fill(128);
    let warmer = 0, cooler = 0;
    for (let image = 0; image < 20; image++) {
      const out = new Float32Array(8 * 8 * 3);
      augmentImage(grey, 8, 8, out, { colorTemperature: 0.2 }, 1, 0, image);
      const [r, g, b] = out;
      expect(g).toBeCloseTo(128 / 255, 6);
      expect(Math.sign(r - g)).toBe(-Math.sign(b - g));
      if (r > g) warmer++; else cooler++;
    }
    expect(warmer).toBeGreaterThan(3); expect(cooler).toBeGreaterThan(3);
    expect(() => checkAugmentation({ randomResizedCrop: 2 })).toThrow(/augmentation randomResizedCrop must be a number from 0 to 1, got 2/);
    expect(() => checkAugmentation({ colorTemperature: -0.1 })).toThrow(/augmentation colorTemperature must be a number from 0 to 1/);
  });
});

describe('MixUp and CutMix', () => {
  const S = 8, N = 12;
  // Image k is a flat grey of level 20k; its class is k % 3.
  const pixels = new Uint8Array(N * S * S * 3);
  for (let k = 0; k < N; k++) pixels.fill(20 * k, k * S * S * 3, (k + 1) * S * S * 3);
  const set = new ImageSet(pixels, [N, S, S, 3], Int32Array.from({ length: N }, (_, k) => k % 3), ['a', 'b', 'c']);

  test('the mix weights follow Beta(alpha, alpha), the partner is another image, the draws are seeded', () => {
    const lambdas = [];
    for (let image = 0; image < 2000; image++) {
      const m = mixFor({ mixup: 1 }, 4, 0, image % N, N, S, S)!;
      expect(m.partner).not.toBe(image % N);
      expect(m.lambda).toBeGreaterThan(0); expect(m.lambda).toBeLessThan(1);
      lambdas.push(mixFor({ mixup: 1 }, 4, image, 0, N, S, S)!.lambda);
    }
    // Beta(1, 1) is uniform: mean 1/2, variance 1/12.
    const mean = lambdas.reduce((a, b) => a + b, 0) / lambdas.length;
    const variance = lambdas.reduce((a, b) => a + (b - mean) ** 2, 0) / lambdas.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.006);
    expect(mixFor({ mixup: 0.2 }, 1, 2, 3, N, S, S)).toEqual(mixFor({ mixup: 0.2 }, 1, 2, 3, N, S, S));
    expect(mixFor({}, 1, 2, 3, N, S, S)).toBeUndefined();
  });

  test('MixUp blends the two images and their labels by the same weight', () => {
    const data = set.augment({ mixup: 0.4 });
    const x = new Float32Array(N * S * S * 3), y = new Float32Array(N * 3);
    data.read(Array.from({ length: N }, (_, k) => k), x, y, { training: true, seed: 9, epoch: 1 });
    for (let k = 0; k < N; k++) {
      const m = mixFor({ mixup: 0.4 }, 9, 1, k, N, S, S)!;
      expect(x[k * S * S * 3 + 5]).toBeCloseTo((m.lambda * 20 * k + (1 - m.lambda) * 20 * m.partner) / 255, 5);
      const row = Array.from(y.subarray(k * 3, k * 3 + 3));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(row[k % 3]).toBeGreaterThanOrEqual(m.lambda - 1e-6);
    }
  });

  test('CutMix pastes a box of the other image and weighs the labels by its area', () => {
    const data = set.augment({ cutmix: 1 });
    const x = new Float32Array(N * S * S * 3), y = new Float32Array(N * 3);
    data.read(Array.from({ length: N }, (_, k) => k), x, y, { training: true, seed: 2, epoch: 0 });
    for (let k = 0; k < N; k++) {
      const m = mixFor({ cutmix: 1 }, 2, 0, k, N, S, S)!;
      let fromPartner = 0;
      for (let p = 0; p < S * S; p++) if (Math.abs(x[(k * S * S + p) * 3] - (20 * m.partner) / 255) < 1e-6 && m.partner !== k) fromPartner++;
      expect(fromPartner).toBe(Math.round((1 - m.lambda) * S * S));
      if (m.partner % 3 !== k % 3) expect(y[k * 3 + (m.partner % 3)]).toBeCloseTo(1 - m.lambda, 6);
    }
  });

  test('a model trains on mixed labels; evaluation reads the images as they are', async () => {
    const x0 = input({ shape: [S, S, 3] });
    const model = new Model({ inputs: x0, outputs: new Dense({ units: 3, activation: 'softmax' }).apply(new Flatten().apply(x0)) });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const h = await model.fit(set.augment({ mixup: 0.2, cutmix: 1 }), { epochs: 3, batchSize: 4, verbose: 0, threads: 1 });
    expect(h.history.loss.every(Number.isFinite)).toBe(true);
    const x = new Float32Array(N * S * S * 3);
    set.augment({ mixup: 0.2 }).read(Array.from({ length: N }, (_, k) => k), x, undefined, { training: false, seed: 0, epoch: 0 });
    expect(x[5]).toBe(0);
    expect(x[S * S * 3 + 5]).toBeCloseTo(20 / 255, 6);
    await model.dispose();
  });
});

test('precise batch norm: the moving statistics become the mean of the batches\' statistics', async () => {
  const x0 = input({ shape: [3, 3, 2] });
  const conv = new Conv2D({ filters: 2, kernelSize: 1, useBias: false, name: 'c' });
  const m = new Model({ inputs: x0, outputs: new Dense({ units: 2, name: 'd' }).apply(new Flatten().apply(new BatchNormalization({ name: 'bn' }).apply(conv.apply(x0)))) });
  m.compile({ optimizer: 'sgd', loss: 'softmaxCrossEntropy' });
  const n = 12, x = tensor(randomArray(n * 18, 21), [n, 3, 3, 2]);
  await m.recomputeBatchNormStatistics(x, { batchSize: 4, batches: 3, threads: 1 });
  // Direct: the conv output's per-channel mean and (biased) variance per batch of 4, averaged.
  const k = m.getWeights()['c/kernel'].data; // (1, 1, 2, 2)
  const mean = [0, 0], variance = [0, 0];
  for (let b = 0; b < 3; b++) {
    for (let c = 0; c < 2; c++) {
      const v: number[] = [];
      for (let s = 4 * b; s < 4 * b + 4; s++) for (let p = 0; p < 9; p++) {
        const i = (s * 9 + p) * 2;
        v.push(x.data[i] * k[c] + x.data[i + 1] * k[2 + c]);
      }
      const mu = v.reduce((a, q) => a + q, 0) / v.length;
      mean[c] += mu / 3;
      variance[c] += v.reduce((a, q) => a + (q - mu) ** 2, 0) / v.length / 3;
    }
  }
  const w = m.getWeights();
  for (let c = 0; c < 2; c++) {
    expect(w['bn/moving_mean'].data[c]).toBeCloseTo(mean[c], 5);
    expect(w['bn/moving_variance'].data[c]).toBeCloseTo(variance[c], 5);
  }
});

describe('callbacks', () => {
  const x = data.train.x.slice(0, 64), y = data.train.y.slice(0, 64);
  test('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const m = convNet({ seed: 2 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
    let epochs = 0;
    let bestWeights: Record<string, Tensor> | undefined;
    // A monitor that never improves after epoch 1 (its value is set by a callback that runs first).
    const fake = { onEpochEnd: (e: number, logs?: Record<string, number>) => { epochs++; logs!.score = e === 1 ? 0 : 1 + e; if (e === 1) bestWeights = m.getWeights(); } };
    const es = new EarlyStopping({ monitor: 'score', mode: 'min', patience: 2, restoreBestWeights: true });
    await m.fit(x, y, { epochs: 20, verbose: 0, threads: 1, callbacks: [fake, es] });
    expect(epochs).toBe(4);
    expect(es.stoppedEpoch).toBe(3);
    expect(es.bestEpoch).toBe(1);
    expect(Array.from(m.getWeights()['fc/kernel'].data)).toEqual(Array.from(bestWeights!['fc/kernel'].data));
  });
  test('ModelCheckpoint with saveBestOnly writes only on improvement (through saveModel: a temporary, renamed)', async () => {
    const dir = testScratchDir('simdnet-ckpt-');
    const m = convNet({ seed: 2 });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
    const scores = [3, 1, 2, 0.5];
    const fake = { onEpochEnd: (e: number, logs?: Record<string, number>) => { logs!.score = scores[e]; } };
    const ck = new ModelCheckpoint(join(dir, 'best-{epoch}.h5'), { monitor: 'score', mode: 'min', saveBestOnly: true });
    await m.fit(x, y, { epochs: 4, verbose: 0, threads: 1, callbacks: [fake, ck] });
    expect([1, 2, 3, 4].map((e) => existsSync(join(dir, `best-${e}.h5`)))).toEqual([true, true, false, true]);
    expect(ck.bestEpoch).toBe(3);
  });
});

test('augmentation and precise batch norm do not depend on the number of workers (ConvNet, first epoch)', async () => {
  const losses = [];
  for (const threads of [1, 2]) {
    const m = convNet({ seed: 4, dropout: 0.2, standardizeImages: true });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const set = data.train.slice(0, 256).augment({
      flip: 'horizontal', rotation: 0.05, zoom: 0.2, translation: 0.1, brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.05, erasing: 0.5,
      grayscale: 0.3, noise: 0.1, background: 0.5,
    });
    const h = await m.fit(set, { epochs: 1, batchSize: 64, verbose: 0, threads, seed: 3, preciseBatchNorm: true });
    losses.push(h.history.loss[0]);
    await m.dispose();
  }
  expect(Math.abs(losses[0] - losses[1])).toBeLessThan(1e-5);
});

// In deterministic mode, bit for bit: without it, Adam's first steps turn rounding-level gradient
// differences on near-zero elements into whole steps of the rate, which no tolerance separates
// from a real dependence.
test('precise batch norm does not depend on the number of workers (a model with batch norm, deterministic mode)', async () => {
  const stats: Float32Array[] = [];
  for (const threads of [1, 2]) {
    const x0 = input({ shape: [64, 64, 3] });
    let x = new Conv2D({ filters: 4, kernelSize: 3, strides: 4, name: 'c' }).apply(x0);
    x = new BatchNormalization({ name: 'bn' }).apply(x);
    const out = new Dense({ units: 6, name: 'out' }).apply(new Flatten().apply(x));
    const m = new Model({ inputs: x0, outputs: out });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    await m.fit(data.train.slice(0, 128).augment({ flip: 'horizontal', zoom: 0.2, background: 0.5 }), { epochs: 1, batchSize: 32, verbose: 0, threads, seed: 5, preciseBatchNorm: true, deterministic: true });
    const w = m.getWeights();
    stats.push(Float32Array.from([...w['bn/moving_mean'].data, ...w['bn/moving_variance'].data]));
    await m.dispose();
  }
  expect(Array.from(stats[1])).toEqual(Array.from(stats[0]));
});

test('fit validationSplit holds out the last fraction, before shuffling (Keras)', async () => {
  const m = convNet({ seed: 1 });
  m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
  const x = data.train.x.slice(0, 40), y = data.train.y.slice(0, 40);
  const h = await m.fit(x, y, { epochs: 1, verbose: 0, threads: 1, validationSplit: 0.25, shuffle: false });
  const direct = await m.evaluate(x.slice(30, 40), y.slice(30, 40), { threads: 1 });
  expect(h.history.val_loss[0]).toBeCloseTo(direct.loss, 6);
  expect(h.history.val_accuracy[0]).toBe(direct.accuracy);
});
