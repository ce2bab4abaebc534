import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Runtime } from '../../src/kernels/index.js';
import { BatchNormalization, Conv2D, Dense, Flatten, input, Model, profileTrainingStep, setConvAlgorithm, tensor } from '../../src/index.js';
import { randomArray } from '../helpers/assert.js';
import { testScratchDir } from '../helpers/scratch.js';

// The module keeps its cache and forced choice per process: each test loads it afresh (a copy
// apart from the one the statically imported Model uses).
async function fresh() {
  vi.resetModules();
  return import('../../src/kernels/conv-algorithm.js');
}

const g = { N: 4, H: 8, W: 8, C: 16, F: 16, KH: 3, KW: 3, stride: 1, padT: 1, padL: 1, OH: 8, OW: 8 };

describe('choosing the convolution algorithm', () => {
  const rt = Runtime.create();
  afterEach(() => {
    delete process.env.SIMDNET_CONV_ALGORITHM;
    delete process.env.SIMDNET_TUNING_CACHE;
  });

  test('an algorithm runs only the convolutions it can: Winograd 3x3 stride 1 (F(4x4) on outputs of 4x4 or more), direct up to 64 window cells or 4 channels', async () => {
    const { chooseConvAlgorithm } = await fresh();
    process.env.SIMDNET_CONV_ALGORITHM = 'winograd';
    expect(chooseConvAlgorithm(rt, { ...g, stride: 2, OH: 4, OW: 4 })).toBe('im2col');
    expect(chooseConvAlgorithm(rt, { ...g, KH: 1, KW: 1, padT: 0, padL: 0 })).toBe('im2col');
    expect(chooseConvAlgorithm(rt, g)).toBe('winograd');
    process.env.SIMDNET_CONV_ALGORITHM = 'winograd4x4';
    expect(chooseConvAlgorithm(rt, g)).toBe('winograd4x4');
    expect(chooseConvAlgorithm(rt, { ...g, H: 3, W: 3, OH: 3, OW: 3 })).toBe('im2col');
    expect(chooseConvAlgorithm(rt, { ...g, stride: 2, OH: 4, OW: 4 })).toBe('im2col');
    process.env.SIMDNET_CONV_ALGORITHM = 'direct';
    expect(chooseConvAlgorithm(rt, g)).toBe('im2col'); // 3x3x16 = 144 cells
    expect(chooseConvAlgorithm(rt, { ...g, C: 3 })).toBe('direct');
    expect(chooseConvAlgorithm(rt, { ...g, C: 3, F: 6 })).toBe('im2col'); // filters not in fours
    expect(chooseConvAlgorithm(rt, { ...g, C: 3, KH: 7, KW: 7, stride: 2, OH: 4, OW: 4 })).toBe('direct'); // 147 cells on 3 channels
    expect(chooseConvAlgorithm(rt, { ...g, C: 5, KH: 5, KW: 5, stride: 2, OH: 4, OW: 4 })).toBe('im2col'); // 125 cells on 5
    // Nothing but im2col for a 5x5 window on 5 channels at stride 2: no choice, no measurement.
    delete process.env.SIMDNET_CONV_ALGORITHM;
    expect(chooseConvAlgorithm(rt, { ...g, C: 5, KH: 5, KW: 5, stride: 2, OH: 4, OW: 4 })).toBe('im2col');
  });

  test('SIMDNET_CONV_ALGORITHM and setConvAlgorithm force a choice; bad values are named', async () => {
    const m = await fresh();
    process.env.SIMDNET_CONV_ALGORITHM = 'im2col';
    expect(m.chooseConvAlgorithm(rt, g)).toBe('im2col');
    m.setConvAlgorithm('winograd');
    expect(m.chooseConvAlgorithm(rt, g)).toBe('winograd');
    expect(() => m.setConvAlgorithm('fft' as 'auto')).toThrow(/conv algorithm must be auto, im2col, winograd, winograd4x4, direct, got "fft"/);
    const again = await fresh();
    process.env.SIMDNET_CONV_ALGORITHM = 'fast';
    expect(() => again.chooseConvAlgorithm(rt, g)).toThrow(/SIMDNET_CONV_ALGORITHM must be auto, im2col, winograd, winograd4x4, direct, got "fast"/);
  });

  test('measured once per shape and machine, kept in the cache file, which the next process reuses; a corrupt file is measured over', async () => {
    const file = join(testScratchDir('simdnet-tuning-'), 'tuning.json');
    process.env.SIMDNET_TUNING_CACHE = file;
    const first = await fresh();
    const choice = first.chooseConvAlgorithm(rt, g);
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('4x8x8x16 k3x3/1 ->16'));
    type Section = Record<string, { algorithm: string; ms: Record<string, number> }>;
    const machines = JSON.parse(readFileSync(file, 'utf8')).machines as Record<string, Record<string, Section>>;
    const measured = Object.values(Object.values(Object.values(machines)[0])[0])[0];
    expect(measured.algorithm).toBe(choice);
    for (const a of ['im2col', 'winograd', 'winograd4x4']) expect(measured.ms[a], a).toBeGreaterThan(0);

    // Another process reads the file: plant the other answer to see that it is used, not re-measured.
    const planted = choice === 'im2col' ? 'winograd' : 'im2col';
    const text = readFileSync(file, 'utf8').replace(`"algorithm": "${choice}"`, `"algorithm": "${planted}"`);
    writeFileSync(file, text);
    expect((await fresh()).chooseConvAlgorithm(rt, g)).toBe(planted);

    writeFileSync(file, '{ not json');
    expect(['im2col', 'winograd', 'winograd4x4']).toContain((await fresh()).chooseConvAlgorithm(rt, g));
    await vi.waitFor(() => expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(3));
  });
});

describe('the tuning cache key', () => {
  test('names the kernel module\'s build, so that a rebuilt or upgraded kernel measures again', async () => {
    const { machineKey } = await import('../../src/kernels/tuning-cache.js');
    const bytes = readFileSync(join(import.meta.dirname, '..', '..', 'build', 'simdnet-relaxed.wasm'));
    // FNV-1a over the bytes, written out here from its definition (offset 2166136261, prime 16777619).
    let h = 2166136261n;
    for (const b of bytes) h = ((h ^ BigInt(b)) * 16777619n) % 2n ** 32n;
    expect(machineKey('relaxed-simd')).toMatch(new RegExp(`relaxed-simd ${bytes.length.toString(16)}-${h.toString(16).padStart(8, '0')}$`));
  });
});

describe('a model trains the same by any algorithm', () => {
  test('loss and weights after two Adam steps agree to float rounding', async () => {
    const build = () => {
      const x0 = input({ shape: [9, 9, 5] });
      // No bias before batch norm: its gradient is zero but for rounding, which Adam turns into full-size steps.
      let x = new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }).apply(x0);
      x = new BatchNormalization({ name: 'bn' }).apply(x);
      x = new Conv2D({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'c2' }).apply(x);
      x = new Flatten().apply(x);
      const m = new Model({ inputs: x0, outputs: new Dense({ units: 3, name: 'fc' }).apply(x) });
      m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
      return m;
    };
    const x = tensor(randomArray(6 * 9 * 9 * 5, 3), [6, 9, 9, 5]);
    const y = tensor(Float32Array.from({ length: 18 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)), [6, 3]);
    const run = async (algorithm: 'im2col' | 'winograd' | 'winograd4x4' | 'direct') => {
      setConvAlgorithm(algorithm);
      const m = build();
      const losses = [(await m.trainOnBatch(x, y, { threads: 1 })).loss, (await m.trainOnBatch(x, y, { threads: 1 })).loss];
      const w = m.getWeights();
      // The forced algorithm did run c1: the layer's choice, and the kernel that runs it (Winograd's
      // driver serves both tiles; the choice tells them apart).
      const prof = await profileTrainingStep(m, x, y, { warmupSteps: 1 });
      expect(prof.layers.find((l) => l.layer === 'c1' && l.phase === 'forward')?.kernel, algorithm).toBe(algorithm);
      const called = prof.kernels.map((k) => k.kernel);
      const own = { im2col: 'conv2d_forward', winograd: 'conv2d_winograd_forward', winograd4x4: 'conv2d_winograd_forward', direct: 'conv2d_direct_forward' }[algorithm];
      expect(called, algorithm).toContain(own);
      await m.dispose();
      return { losses, w };
    };
    try {
      // c1 (3x3 on 5 channels: 45 window cells, 9x9 output) can run any; c2 (72 cells, 7x7) only Winograd.
      const a = await run('im2col');
      for (const other of ['winograd', 'winograd4x4', 'direct'] as const) {
        const b = await run(other);
        for (let i = 0; i < 2; i++) expect(Math.abs(a.losses[i] - b.losses[i]), other).toBeLessThan(1e-5);
        for (const k of Object.keys(a.w)) {
          const p = a.w[k].data, q = b.w[k].data;
          let err = 0;
          for (let i = 0; i < p.length; i++) err = Math.max(err, Math.abs(p[i] - q[i]));
          expect(err, `${other} ${k}`).toBeLessThan(1e-5);
        }
      }
    } finally {
      setConvAlgorithm('auto');
    }
  });
});

describe('scratch sizes, as the kernel module lays the scratch out', () => {
  // The layouts written out by hand: a 2 KiB tile buffer, then (tile + 2)² planes each of U
  // (C*F floats), V (T*C) and M (T*F), each plane one 64-byte line longer; T the larger tile count
  // of the output and the input. The direct kernel's padded copy of x, when a window pads.
  const winograd = (s: typeof g, tile: number) => {
    const tiles = (h: number, w: number) => s.N * Math.ceil(h / tile) * Math.ceil(w / tile);
    const T = Math.max(tiles(s.OH, s.OW), tiles(s.H, s.W));
    return 2048 + (tile + 2) ** 2 * (4 * (s.C * s.F + T * (s.C + s.F)) + 3 * 64);
  };
  const direct = (s: typeof g) => {
    const HP = (s.OH - 1) * s.stride + s.KH, WP = (s.OW - 1) * s.stride + s.KW;
    const pads = s.padT > 0 || s.padL > 0 || HP > s.H || WP > s.W;
    return (pads ? 4 * s.N * HP * WP * s.C : 0) + 8 * s.OH * s.OW; // the padded copy, then one image's pixel list
  };

  test('Winograd, both tiles, odd and even maps, and a size past 4 GiB not wrapped around', async () => {
    const { winogradScratchBytes } = await import('../../src/kernels/conv-algorithm.js');
    const shapes = [g, { ...g, H: 15, W: 15, OH: 15, OW: 15, C: 64, F: 64 }, { ...g, N: 1, H: 2, W: 2, OH: 2, OW: 2, C: 512, F: 512 },
      { ...g, N: 7, H: 9, W: 5, OH: 9, OW: 5, C: 3, F: 5 }, { ...g, N: 4096, H: 64, W: 64, OH: 64, OW: 64, C: 256, F: 256 }];
    for (const s of shapes) for (const tile of [2, 4]) expect(winogradScratchBytes(s, tile), `${JSON.stringify(s)} tile ${tile}`).toBe(winograd(s, tile));
    expect(winogradScratchBytes(shapes[4], 2)).toBeGreaterThan(2 ** 32);
  });

  test('direct: the padded copy when a window pads, none otherwise, and the pixel list', async () => {
    const { directScratchBytes } = await import('../../src/kernels/conv-algorithm.js');
    const conv1 = { N: 16, H: 64, W: 64, C: 3, F: 64, KH: 7, KW: 7, stride: 2, padT: 2, padL: 2, OH: 32, OW: 32 };
    const w1 = { N: 32, H: 64, W: 64, C: 3, F: 8, KH: 4, KW: 4, stride: 1, padT: 1, padL: 1, OH: 64, OW: 64 };
    const bottomOnly = { ...w1, padT: 0, padL: 0, KH: 2, KW: 2 }; // TensorFlow's same: the padding all at the bottom/right
    const valid = { ...w1, padT: 0, padL: 0, OH: 61, OW: 61 };
    const huge = { ...w1, N: 200000 };
    for (const s of [conv1, w1, bottomOnly, valid, huge]) expect(directScratchBytes(s), JSON.stringify(s)).toBe(direct(s));
    expect(directScratchBytes(valid)).toBe(8 * 61 * 61);
    expect(directScratchBytes(bottomOnly)).toBeGreaterThan(0);
    expect(directScratchBytes(huge)).toBeGreaterThan(2 ** 32);
  });
});
