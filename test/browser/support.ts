/** Browser-test support: the web app built when stale, and Debian's Chromium through playwright-core. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT_DIR = join(ROOT, 'test-output', 'browser');

/** frontend/dist built when missing or older than its sources (frontend/scripts/build-if-stale.mjs). */
export function buildFrontendIfStale(): void {
  execFileSync(process.execPath, [join(ROOT, 'frontend', 'scripts', 'build-if-stale.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH; the browser tests never download one`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium's own connections are refused on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
