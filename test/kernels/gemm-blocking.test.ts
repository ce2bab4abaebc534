import { afterEach, describe, expect, test } from 'vitest';
import { harness } from '../helpers/harness.js';
import { expectClose, randomArray } from '../helpers/assert.js';
import { useGemmBlocking, DEFAULT_GEMM_BLOCKING, setGemmBlocking, type GemmBlocking } from '../../src/kernels/gemm-blocking.js';
import { Dense, Flatten, input, Model, tensor } from '../../src/index.js';

const h = harness();

describe('GEMM blocking', () => {
  afterEach(() => {
    delete process.env.SIMDNET_GEMM_BLOCKING;
    setGemmBlocking('auto');
    h.rt.k.gemm_set_blocking(4, 120, 256, 1024);
  });

  const blockings: GemmBlocking[] = [
    { mr: 4, mc: 120, kc: 256, nc: 1024 }, { mr: 5, mc: 5, kc: 16, nc: 8 }, { mr: 6, mc: 240, kc: 512, nc: 1024 },
    { mr: 4, mc: 60, kc: 128, nc: 512 }, { mr: 5, mc: 235, kc: 33, nc: 24 },
  ];
  test.each(blockings)('sgemm is right with blocking %o (odd shapes, transposed operands, accumulate)', (b) => {
    expect(h.rt.k.gemm_set_blocking(b.mr, b.mc, b.kc, b.nc)).toBe(1);
    for (const [M, N, K] of [[13, 17, 700], [250, 9, 40], [7, 1030, 20]]) {
      const a = randomArray(M * K, M), bm = randomArray(K * N, N);
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0; p < K; p++) s += a[p * M + i] * bm[p * N + j];
        want[i * N + j] = 1 + s;
      }
      const pc = h.up(new Float32Array(M * N).fill(1));
      // A stored transposed ([K, M]), accumulating onto ones.
      h.rt.k.sgemm(M, N, K, h.up(a), 1, M, h.up(bm), N, 1, pc, N, 1, h.rt.gemmWorkspace);
      expectClose(h.get(pc, M * N), want, 1e-5 * Math.sqrt(K), `${M}x${N}x${K}`);
    }
  });

  test('the kernels refuse a blocking they cannot run', () => {
    for (const [mr, mc, kc, nc] of [[3, 120, 256, 1024], [4, 122, 256, 1024], [4, 120, 1024, 1024], [4, 120, 256, 2048], [4, 120, 256, 12]]) {
      expect(h.rt.k.gemm_set_blocking(mr, mc, kc, nc), `${[mr, mc, kc, nc]}`).toBe(0);
    }
  });

  test('SIMDNET_GEMM_BLOCKING and setGemmBlocking force a blocking; bad ones are named', () => {
    process.env.SIMDNET_GEMM_BLOCKING = '5,60,128,512';
    expect(useGemmBlocking(h.rt)).toEqual({ mr: 5, mc: 60, kc: 128, nc: 512 });
    setGemmBlocking({ mr: 6, mc: 120, kc: 64, nc: 256 });
    expect(useGemmBlocking(h.rt)).toEqual({ mr: 6, mc: 120, kc: 64, nc: 256 });
    expect(() => setGemmBlocking({ mr: 7, mc: 120, kc: 64, nc: 256 })).toThrow(/setGemmBlocking: a GEMM blocking needs mr 4, 5 or 6/);
    setGemmBlocking('auto');
    process.env.SIMDNET_GEMM_BLOCKING = '4,120';
    expect(() => useGemmBlocking(h.rt)).toThrow(/SIMDNET_GEMM_BLOCKING must be "auto" or four integers "mr,mc,kc,nc".*got "4,120"/);
    process.env.SIMDNET_GEMM_BLOCKING = '4,122,256,1024';
    expect(() => useGemmBlocking(h.rt)).toThrow(/SIMDNET_GEMM_BLOCKING: .*mc a multiple of mr/);
  });

  test('the debug build is never measured', () => {
    expect(useGemmBlocking(h.rt)).toEqual(DEFAULT_GEMM_BLOCKING);
  });
});

describe('every worker runs the blocking the engine chose', () => {
  // A dense layer with a depth of 900 sums in kc-sized pieces: the blocking shows in the bits.
  const train = async (blocking: GemmBlocking, threads: number) => {
    setGemmBlocking(blocking);
    const x0 = input({ shape: [30, 30, 1] });
    const m = new Model({ inputs: x0, outputs: new Dense({ units: 16, name: 'fc', kernelInitializer: 'glorotUniform' }).apply(new Flatten().apply(x0)) });
    m.compile({ optimizer: 'adam', loss: 'softmaxCrossEntropy' });
    const x = tensor(randomArray(8 * 900, 5), [8, 30, 30, 1]);
    const y = tensor(Float32Array.from({ length: 8 * 16 }, (_, i) => (i % 16 === Math.floor(i / 16) ? 1 : 0)), [8, 16]);
    for (let s = 0; s < 2; s++) await m.trainOnBatch(x, y, { threads, deterministic: 2 });
    const w = Array.from(m.getWeights()['fc/kernel'].data);
    await m.dispose();
    return w;
  };
  afterEach(() => setGemmBlocking('auto'));

  test('deterministic training under a forced blocking: 1 and 2 threads bitwise equal, and unlike the default blocking', async () => {
    const odd: GemmBlocking = { mr: 5, mc: 60, kc: 64, nc: 512 };
    const one = await train(odd, 1), two = await train(odd, 2);
    expect(two).toEqual(one);
    const usual = await train(DEFAULT_GEMM_BLOCKING, 1);
    expect(usual).not.toEqual(one);
  });
});
