// simdnet in headless Chromium next to simdnet in Node, in the same run: ResNet-50 training and
// prediction at batch 32 and ConvNet training at batch 64, on 1 and 2 threads. The two sides
// alternate block by block (Node, page, Node, page, ...) so that a slowdown of the machine hits
// both sides of a ratio; each pair gives a ratio (page images/s over Node's), reported as the
// median with its range. Writes bench/results/browser.json.
//
//   npm run bench:browser [-- --quick] [-- --pairs N]
//   SIMDNET_CHROMIUM=/usr/bin/chromium uses another Chromium binary (web/chromium.mjs).

import { tensor } from '../src/tensor.js';
import { resNet50 } from '../src/models/resnet50.js';
import { convNet } from '../src/models/convnet.js';
import type { Model } from '../src/models/model.js';
import { runtimeInfo } from '../src/models/runtime-info.js';
import { machine, table, writeResults } from './report.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { packageRoot } from '../src/platform/node-files.js';

// The page tooling (plain ES modules in web/, which this file's build in dist/ does not hold).
const web = (name: string) => import(pathToFileURL(join(packageRoot(), 'web', name)).href);
const { startServer } = await web('server.mjs');
const { launchChromium } = await web('chromium.mjs');

interface Case { model: 'resnet50' | 'convnet'; mode: 'train' | 'predict'; batch: number; threads: number; steps: number }

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const at = args.indexOf('--pairs');
const PAIRS = at >= 0 ? Number(args[at + 1]) : quick ? 2 : 4;
if (!Number.isInteger(PAIRS) || PAIRS < 1) throw new Error(`--pairs must be a whole number of at least 1, got "${args[at + 1]}"`);

const CASES: Case[] = [
  { model: 'resnet50', mode: 'train', batch: 32, threads: 2, steps: quick ? 1 : 2 },
  { model: 'resnet50', mode: 'train', batch: 32, threads: 1, steps: 1 },
  { model: 'resnet50', mode: 'predict', batch: 32, threads: 2, steps: quick ? 2 : 4 },
  { model: 'resnet50', mode: 'predict', batch: 32, threads: 1, steps: 2 },
  { model: 'convnet', mode: 'train', batch: 64, threads: 2, steps: quick ? 20 : 50 },
  { model: 'convnet', mode: 'train', batch: 64, threads: 1, steps: quick ? 20 : 50 },
];

// The same model, batch and step on either side: the page runs this function's source.
function setUp(c: Case, lib: { resNet50: typeof resNet50; convNet: typeof convNet; tensor: typeof tensor }) {
  const model: Model = c.model === 'resnet50' ? lib.resNet50() : lib.convNet();
  model.compile({ optimizer: 'adam', loss: c.model === 'resnet50' ? 'categoricalCrossentropy' : 'softmaxCrossEntropy' });
  const x = lib.tensor(Float32Array.from({ length: c.batch * 64 * 64 * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000), [c.batch, 64, 64, 3]);
  const y = lib.tensor(Float32Array.from({ length: c.batch * 6 }, (_, i) => (i % 6 === Math.floor(i / 6) % 6 ? 1 : 0)), [c.batch, 6]);
  const run = { threads: c.threads };
  const step = () => (c.mode === 'train' ? model.trainOnBatch(x, y, run) : model.predict(x, { ...run, batchSize: c.batch }));
  // Seconds for `n` steps.
  const block = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await step();
    return (performance.now() - t0) / 1000;
  };
  return { model, block };
}

async function inPage(page: Page, c: Case): Promise<void> {
  await page.evaluate(`(async () => {
    const lib = await import('/dist/browser/simdnet.js');
    await globalThis.benchCase?.model.dispose();
    globalThis.benchCase = (${setUp.toString()})(${JSON.stringify(c)}, lib);
    await globalThis.benchCase.block(1);
  })()`);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main(): Promise<void> {
  const server = await startServer({ port: 0 });
  const browser: Browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${server.url}/web/blank.html`);
  const pageInfo = await page.evaluate(`import('/dist/browser/simdnet.js').then((s) => s.runtimeInfo({ measurePeak: true }))`) as Record<string, unknown>;
  const nodeInfo = runtimeInfo({ measurePeak: true });
  console.log(`Node: ${nodeInfo.runtime}, kernels ${nodeInfo.kernels}, SIMD peak ${nodeInfo.simdPeakGflops} GFLOP/s per core`);
  console.log(`Page: ${pageInfo.runtime}, kernels ${pageInfo.kernels}, SIMD peak ${pageInfo.simdPeakGflops} GFLOP/s per core, cross-origin isolated: ${pageInfo.sharedMemory}`);
  const results = [];
  for (const c of CASES) {
    const node = setUp(c, { resNet50, convNet, tensor });
    await node.block(1); // warm-up: plans, worker start-up
    await inPage(page, c);
    const ratios: number[] = [], nodeRates: number[] = [], pageRates: number[] = [];
    for (let p = 0; p < PAIRS; p++) {
      const n = await node.block(c.steps);
      const b = await page.evaluate(`globalThis.benchCase.block(${c.steps})`) as number;
      nodeRates.push((c.steps * c.batch) / n);
      pageRates.push((c.steps * c.batch) / b);
      ratios.push(n / b);
    }
    await node.model.dispose();
    const r = { ...c, nodeImagesPerSecond: nodeRates, pageImagesPerSecond: pageRates, ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } };
    console.log(`${c.model} ${c.mode} batch ${c.batch}, ${c.threads} thread(s): page/Node ${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)})`);
    results.push(r);
  }
  await page.evaluate('globalThis.benchCase?.model.dispose()');
  await browser.close();
  await server.close();
  console.log('\n' + table(['case', 'threads', 'Node images/s', 'page images/s', 'page / Node (median, range)'], results.map((r) => [
    `${r.model} ${r.mode} (batch ${r.batch})`, r.threads, median(r.nodeImagesPerSecond), median(r.pageImagesPerSecond),
    `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)})`,
  ])));
  const path = writeResults('browser.json', { machine: machine(), node: nodeInfo, page: pageInfo, pairs: PAIRS, results });
  console.log(`\nWrote ${path}`);
}

await main();
