// Temporary folders that tests remove when they end, so that a test run leaves nothing in the
// system's temporary folder (the saves-during-fit test alone wrote 0.9 GB a run, and 34 runs'
// leftovers filled this machine's disk until Chromium could not fetch a file).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/** A fresh folder for a test file's tests, removed after the last of them (call at module level). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh folder for the test that is running, removed when it finishes (call inside a test). */
export function testScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
