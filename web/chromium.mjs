// Headless Chromium with no download at install: @sparticuz/chromium ships the binary inside its
// npm package (unpacked to the temp folder on first use), driven by puppeteer-core. Used by the
// browser tests and `npm run bench:browser`; SIMDNET_CHROMIUM=/usr/bin/chromium picks another
// binary (Debian's, say) to compare.
import chromium from '@sparticuz/chromium';
import puppeteer from 'puppeteer-core';

// As root, no sandbox; nothing that reaches for the network at start (this machine's network is
// closed, and Chromium retries every refused connection).
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launchChromium() {
  const executablePath = process.env.SIMDNET_CHROMIUM || await chromium.executablePath();
  return puppeteer.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true, protocolTimeout: 900_000 });
}
