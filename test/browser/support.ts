/** Browser-test support: the web app built when stale, and Debian's Chromium through playwright-core. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT_DIR = join(ROOT, 'test-output', 'browser');

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) t = Math.max(t, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return t;
}

/** npm run build -w @drive-import/frontend, when frontend/dist is missing or older than its sources. */
export function buildFrontendIfStale(): void {
  const dist = join(ROOT, 'frontend', 'dist', 'index.html');
  const sources = Math.max(newest(join(ROOT, 'frontend', 'src')), statSync(join(ROOT, 'frontend', 'index.html')).mtimeMs);
  if (existsSync(dist) && statSync(dist).mtimeMs >= sources) return;
  // NODE_ENV=test (the test runner's) would build React's development bundle.
  execFileSync('npm', ['run', 'build', '-w', '@drive-import/frontend'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
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
