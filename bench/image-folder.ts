// Peak memory and time of loading a folder of 10,000 images (64x64 PNGs in 10 class folders),
// against the size of the decoded uint8 pixels. The folder is made once under the system's
// temporary folder; the load runs in a fresh process so that its peak RSS is its own.
//
//   node dist/bench/image-folder.js [--images N]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { machine, writeResults } from './report.js';

const SIZE = 64, CLASSES = 10;

function makeFolder(dir: string, n: number): void {
  const per = Math.ceil(n / CLASSES);
  for (let k = 0; k < CLASSES; k++) {
    mkdirSync(join(dir, `class${k}`), { recursive: true });
    for (let i = 0; i < per; i++) {
      const p = new PNG({ width: SIZE, height: SIZE });
      for (let j = 0; j < SIZE * SIZE * 4; j++) p.data[j] = j % 4 === 3 ? 255 : (j * 7 + i * 13 + k * 29) % 256;
      writeFileSync(join(dir, `class${k}`, `${i}.png`), PNG.sync.write(p));
    }
  }
}

// This process's peak resident memory in MiB: VmHWM (getrusage's maxrss survives exec on Linux,
// so a child would report its parent's peak).
function peakMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function load(dir: string): Promise<void> {
  const { loadImageFolder } = await import('../src/data/image-folder.js');
  const before = peakMiB();
  const t0 = performance.now();
  const { images } = await loadImageFolder(dir, { imageSize: SIZE });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ images: images.size, bytes: images.pixels.length, seconds, rssBeforeMiB: before, peakRssMiB: peakMiB() }));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--load') return load(argv[1]);
  const at = argv.indexOf('--images');
  const n = at >= 0 ? Number(argv[at + 1]) : 10_000;
  const dir = join(tmpdir(), `simdnet-bench-folder-${n}`);
  if (!existsSync(join(dir, `class${CLASSES - 1}`))) {
    console.log(`making ${n} images in ${dir} ...`);
    makeFolder(dir, n);
  }
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const mib = res.bytes / 2 ** 20, grew = res.peakRssMiB - res.rssBeforeMiB;
  console.log(`${res.images} images of ${SIZE}x${SIZE}: uint8 pixels ${mib.toFixed(0)} MiB; loaded in ${res.seconds.toFixed(1)} s; ` +
    `peak RSS ${res.peakRssMiB.toFixed(0)} MiB, ${grew.toFixed(0)} MiB above the process before loading (${(grew / mib).toFixed(2)}x the pixels)`);
  console.log(`wrote ${writeResults('image-folder.json', { machine: machine(), ...res, pixelsMiB: mib, grewMiB: grew })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
