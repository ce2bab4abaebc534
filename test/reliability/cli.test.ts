// The command line tried the way a careless or hostile user would: each case ends quickly with
// one line naming what was wrong, the right exit status, and no half-written output.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import h5wasm from 'h5wasm/node';
import { signsDir } from '../helpers/goldens.js';
import { editJsonAttribute } from './crafted.js';
import { scratchDir } from '../helpers/scratch.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli/main.js');
const work = scratchDir('simdnet-cli-reliability-');

function run(...args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

function refused(r: ReturnType<typeof run>, code: number, message: RegExp): void {
  expect(r.code, r.err + r.out).toBe(code);
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^simdnet: /);
  expect(lines[0]).toMatch(message);
  expect(r.ms).toBeLessThan(5000 + 2000); // process start-up included
}

const model = join(work, 'model', 'model.h5');
const trained = run('train', '--model', 'convnet', '--epochs', '1', '--threads', '1', '--data', signsDir, '--out', join(work, 'model'), '--quiet');

describe('refused at once', () => {
  test('a trained model to work with', () => expect(trained.code, trained.err).toBe(0));

  test('an image that is a named pipe or a link to /dev/zero', () => {
    const fifo = join(work, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    refused(run('predict', model, fifo), 1, /fifo\.jpg: a named pipe, not a regular file/);
    const zero = join(work, 'zero.jpg');
    execFileSync('ln', ['-s', '/dev/zero', zero]);
    refused(run('predict', model, zero), 1, /zero\.jpg: a device, not a regular file/);
  });

  test('absurd thread counts', () => {
    refused(run('train', '--model', 'convnet', '--threads', '1000', '--data', signsDir, '--out', join(work, 't')), 2, /--threads must be at most 64, got 1000/);
    refused(run('evaluate', model, '--threads', '1000000', '--data', signsDir), 2, /--threads must be at most 64, got 1000000/);
  });

  test('an output folder that cannot be made or written, before any training', () => {
    refused(run('train', '--model', 'convnet', '--data', signsDir, '--out', '/proc/simdnet-x'), 1, /output folder \/proc\/simdnet-x/);
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    refused(run('train', '--model', 'convnet', '--data', signsDir, '--out', join(file, 'run')), 1, /a-file is not a folder/);
  });

  test('numbers in another base, negative seeds, an unknown model named like an object property', () => {
    refused(run('train', '--model', 'convnet', '--batch-size', '0x10', '--data', signsDir), 2, /--batch-size must be a whole number, got "0x10"/);
    refused(run('train', '--model', 'convnet', '--seed', '-1', '--data', signsDir), 2, /--seed takes no negative value/);
    refused(run('train', '--model', 'constructor', '--data', signsDir), 2, /unknown model "constructor"/);
  });

  test('a folder that holds another run is not overwritten without --force', () => {
    refused(run('train', '--model', 'convnet', '--epochs', '1', '--data', signsDir, '--out', join(work, 'model')), 2, /already holds a run \(model\.h5, history\.json/);
  });

  test('evaluate --help lists every flag it takes', () => {
    const r = run('evaluate', '--help');
    for (const flag of ['--data', '--split', '--threads']) expect(r.out).toContain(flag);
  });

  test('predict does not need a training_config it would not use', async () => {
    const copy = join(work, 'bad-training-config.h5');
    writeFileSync(copy, readFileSync(model));
    await editJsonAttribute(copy, 'training_config', (c) => ({ ...c, optimizer_config: { class_name: 'Nonsense', config: {} } }));
    const jpeg = join(signsDir, 'jpeg/test_signs', readdirSync(join(signsDir, 'jpeg/test_signs')).sort()[0]);
    const r = run('predict', copy, jpeg);
    expect(r.code, r.err).toBe(0);
    refused(run('evaluate', copy, '--data', signsDir), 1, /bad-training-config\.h5: training_config: unknown optimizer class "Nonsense"/);
  });
});

describe('an interrupted run keeps its work', () => {
  test('stale temporaries of killed processes are removed; every output names the run it belongs to', async () => {
    const out = join(work, 'stale');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(out, `.model.h5.${dead}.tmp`), 'left by a killed save');
    const r = run('train', '--model', 'convnet', '--epochs', '1', '--threads', '1', '--data', signsDir, '--out', out, '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await h5wasm.ready;
    const f = new h5wasm.File(join(out, 'model.h5'), 'r');
    const runId = JSON.parse(String(f.attrs.simdnet_training.value)).runId;
    f.close();
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).runId).toBe(runId);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(runId);
  });

  // Starts a long ConvNet run into `out`, sends `signal` once its first epoch is saved, and
  // returns how the process ended.
  async function interruptedRun(out: string, signal: NodeJS.Signals): Promise<{ code: number | null; err: string }> {
    const child = spawn(process.execPath, [cli, 'train', '--model', 'convnet', '--epochs', '60', '--threads', '1', '--data', signsDir, '--out', out, '--quiet']);
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const t0 = Date.now();
    while (!existsSync(join(out, 'model.h5')) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    child.kill(signal);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    return { code, err };
  }

  test('SIGTERM stops as Ctrl-C does: at a full epoch, exit 130, the folder unlocked', async () => {
    const out = join(work, 'terminated');
    const { code, err } = await interruptedRun(out, 'SIGTERM');
    expect(code, err).toBe(130);
    expect(err).toMatch(/interrupted; .*model\.h5 holds the last full epoch: continue with --resume/);
    expect(existsSync(join(out, '.simdnet.lock'))).toBe(false);
    // --force replaces that run with a new one (another run id), where without it the folder is refused.
    const refusedRun = run('train', '--model', 'convnet', '--epochs', '1', '--threads', '1', '--data', signsDir, '--out', out, '--quiet');
    expect(refusedRun.code).toBe(2);
    expect(refusedRun.err).toMatch(/already holds a run .*pass --force to replace it/);
    await h5wasm.ready;
    const runIdOf = () => {
      const f = new h5wasm.File(join(out, 'model.h5'), 'r');
      const id = JSON.parse(String(f.attrs.simdnet_training.value)).runId;
      f.close();
      return id;
    };
    const before = runIdOf();
    const forced = run('train', '--model', 'convnet', '--epochs', '1', '--threads', '1', '--data', signsDir, '--out', out, '--quiet', '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(runIdOf()).not.toBe(before);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).runId).toBe(runIdOf());
  });

  test('Ctrl-C stops at a full epoch saved in model.h5; --resume goes on from there', async () => {
    const out = join(work, 'interrupted');
    const { code, err } = await interruptedRun(out, 'SIGINT');
    expect(code, err).toBe(130);
    expect(err).toMatch(/interrupted; .*model\.h5 holds the last full epoch: continue with --resume/);
    await h5wasm.ready;
    const f = new h5wasm.File(join(out, 'model.h5'), 'r');
    const state = JSON.parse(String(f.attrs.simdnet_training.value));
    f.close();
    expect(state.epochsDone).toBeGreaterThanOrEqual(1);
    expect(state.epochsDone).toBeLessThan(60);
    expect(state.history.loss).toHaveLength(state.epochsDone);
    const r = run('train', '--resume', join(out, 'model.h5'), '--epochs', String(state.epochsDone + 2), '--threads', '1', '--data', signsDir, '--quiet');
    expect(r.code, r.err).toBe(0);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.history.loss).toHaveLength(state.epochsDone + 2);
    expect(history.history.loss.slice(0, state.epochsDone)).toEqual(state.history.loss);
    expect(history.runId).toBe(state.runId);
  });
});

describe('faults that cannot be made by a bad file alone', () => {
  test('an HDF5 read that never returns is stopped at its deadline, naming the file', async () => {
    const r = spawnSync(process.execPath, [cli, 'evaluate', model, '--data', signsDir], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, SIMDNET_TEST_FAULT: 'hdf5-hang' },
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim()).toMatch(/^simdnet: .*model\.h5: reading its structure took longer than 4 s; the file is corrupt$/);
  });

  test('kill -9 in the middle of saves leaves the model file whole: it loads every time', async () => {
    const file = join(work, 'killed', 'model.h5');
    mkdirSync(join(work, 'killed'), { recursive: true });
    const saver = `import { resNet50, saveModel } from ${JSON.stringify(resolve(root, 'dist/src/index.js'))};
      const m = resNet50({ seed: 1 }); m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      for (;;) { await saveModel(m, ${JSON.stringify(file)}); process.stdout.write('saved\\n'); }`;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', saver]);
      let saves = 0;
      await new Promise<void>((done) => child.stdout.on('data', (d) => { saves += String(d).split('saved').length - 1; if (saves >= 1) done(); }));
      // Somewhere inside the next save (a ResNet-50 with Adam's state is 283 MB).
      await new Promise((r) => setTimeout(r, 150 + 250 * round));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const { loadModel } = await import('../../src/io/model-file.js');
      const { model: back } = await loadModel(file);
      expect(back.name).toBe('ResNet50');
      await back.dispose();
    }
    // What a kill leaves is a temporary beside it, which the next train into the folder removes.
    expect(readdirSync(join(work, 'killed')).filter((f) => f !== 'model.h5').every((f) => /^\.model\.h5\.\d+\.tmp$/.test(f))).toBe(true);
  });

  test('--deterministic: the same losses and weights on 1 and 2 threads from the CLI', async () => {
    const a = join(work, 'det1'), b = join(work, 'det2');
    for (const [out, threads] of [[a, '1'], [b, '2']]) {
      const r = run('train', '--model', 'convnet', '--epochs', '2', '--threads', threads, '--deterministic', '--data', signsDir, '--out', out, '--quiet');
      expect(r.code, r.err).toBe(0);
    }
    const ha = JSON.parse(readFileSync(join(a, 'history.json'), 'utf8')).history, hb = JSON.parse(readFileSync(join(b, 'history.json'), 'utf8')).history;
    expect(hb.loss).toEqual(ha.loss);
    const { loadModel } = await import('../../src/io/model-file.js');
    const [ma, mb] = [(await loadModel(join(a, 'model.h5'))).model, (await loadModel(join(b, 'model.h5'))).model];
    const wa = ma.getWeights(), wb = mb.getWeights();
    for (const k of Object.keys(wa)) expect(Array.from(wb[k].data), k).toEqual(Array.from(wa[k].data));
    await ma.dispose();
    await mb.dispose();
  });
});
