/**
 * `npm start`: the whole system as local processes on embedded defaults.
 *   - Redis from REDIS_URL, or a redis-server started here if none answers;
 *   - SQLite (DATABASE_URL) and the local-disk store (LOCAL_STORAGE_DIR) unless configured otherwise;
 *   - with no Google credentials and no DRIVE_API_ROOT_URL: the Drive emulator with a demo folder,
 *     imported at once so you can watch it finish.
 * Every variable in .env.example is honoured (from the environment or a .env file).
 * A service that exits unexpectedly is restarted (see RESTART); Ctrl-C or SIGTERM stops everything.
 * Flags: --once (exit after the demo import, for smoke tests), --free-ports (pick free ports).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, type JobStatusResponse, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { startDriveEmulator } from '@drive-import/drive-emulator';
import { findOrStartRedis, readOrCreateSecret, startStack } from '@drive-import/local-stack';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const args = new Set(process.argv.slice(2));
const once = args.has('--once');
if (existsSync('.env')) process.loadEnvFile('.env');

const log = createLogger('start');
/** Restart backoff 0.5 s doubling to 10 s; 5 crashes of one service within 60 s stop everything. */
const RESTART = { baseDelayMs: 500, maxDelayMs: 10_000, maxCrashes: 5, windowMs: 60_000 };
const env: NodeJS.ProcessEnv = { ...process.env };
const cleanups: Array<() => Promise<void>> = [];
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => log.warn({ err }, 'cleanup failed'));
  process.exit(code);
}
// Ctrl-C reaches the services too (same process group); they stop gracefully and we wait for them.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main() {
  mkdirSync('.data', { recursive: true });
  // The services' shared secret and a local admin API token: made on the first run, kept in .data/.
  env.INTERNAL_TOKEN ||= readOrCreateSecret('.data/internal-token').value;
  const adminFromEnv = Boolean(env.ADMIN_TOKEN);
  env.ADMIN_TOKEN ||= readOrCreateSecret('.data/admin-token', () => `dit_admin_${randomBytes(32).toString('base64url')}`).value;

  const redis = await findOrStartRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  cleanups.push(redis.stop);
  env.REDIS_URL = redis.url;
  log.info({ redis: redis.url.replace(/\/\/[^@]*@/, '//***@') }, 'redis ready');

  let demoFolderUrl: string | null = null;
  if (!env.GOOGLE_API_KEY && !env.GOOGLE_APPLICATION_CREDENTIALS && !env.DRIVE_API_ROOT_URL) {
    const emulator = await startDriveEmulator({
      tree: { seed: 7, depth: 2, foldersPerFolder: 3, filesPerFolder: 25, imageBytes: 30_000, duplicateNames: true, rootName: 'Demo photos' },
      port: Number(env.DEMO_DRIVE_PORT ?? 0),
    });
    cleanups.push(emulator.close);
    env.DRIVE_API_ROOT_URL = emulator.url;
    demoFolderUrl = emulator.folderUrl;
    log.info({ drive: emulator.url, folder_url: demoFolderUrl, images: emulator.tree.expectedImages().length }, 'no Google credentials set: serving a demo Drive folder from the emulator');
  }

  // The services run compiled (plain node, no TypeScript compile at each start): bundled here, in well under a second.
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--services-only'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed (its errors are above)');
  // The web app: built only when frontend/dist is missing or older than its sources.
  const page = spawnSync(process.execPath, ['frontend/scripts/build-if-stale.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (page.status !== 0) throw new Error('the web app did not build (its errors are above)');
  if (demoFolderUrl) env.DEMO_FOLDER_URL ||= demoFolderUrl; // the page offers it in its import form

  // A service that dies is started again (the others keep running and the import goes on); one that
  // keeps dying is a fault to fix, not to hide: then everything stops, saying which and why.
  const stack = await startStack({
    env,
    freePorts: args.has('--free-ports'),
    compiled: true,
    restart: {
      ...RESTART,
      onRestart: (service, { code, signal, crashes, delayMs }) => {
        if (!stopping) log.error({ service, code, signal, crashes, restart_in_ms: delayMs }, 'a service stopped unexpectedly; restarting it');
      },
      onGiveUp: (service, { crashes, windowMs, code, signal }) => {
        if (stopping) return;
        log.fatal(
          { service, crashes, code, signal },
          `${service} stopped unexpectedly ${crashes} times in ${windowMs / 1000} s (last exit: ${signal ?? `code ${code}`}); stopping everything. Its log lines above say why.`,
        );
        void shutdown(1);
      },
    },
  });
  cleanups.unshift(stack.stop);
  const gateway = stack.gatewayUrl;
  log.info({ gateway, services: Object.fromEntries(stack.processes.map((p) => [p.name, p.url])) }, 'drive-import is up');

  // Printed for the person at the terminal, never logged: the token of the local admin (kept in .data/admin-token).
  console.log(
    adminFromEnv
      ? `\nOpen ${gateway}/ and sign in with your ADMIN_TOKEN.\n`
      : `\nOpen this link to sign the local admin in (its token is kept in .data/admin-token):\n\n  ${gateway}/#signin=${encodeURIComponent(env.ADMIN_TOKEN)}\n`,
  );
  const authorization = `Bearer ${env.ADMIN_TOKEN}`;
  if (demoFolderUrl) await runDemo(gateway, demoFolderUrl, authorization);
  if (once) return shutdown(0);
  log.info(`Import a folder: curl -X POST ${gateway}/api/import/google-drive -H "authorization: Bearer $(cat .data/admin-token)" -H 'content-type: application/json' -d '{"folder_url": "<url>"}'  (Ctrl-C stops everything)`);
}

async function runDemo(gateway: string, folderUrl: string, authorization: string) {
  const started = Date.now();
  const res = await fetch(`${gateway}/api/import/google-drive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ folder_url: folderUrl }),
  });
  const accepted = (await res.json()) as { job_id: string; status_url: string };
  if (res.status !== 202) throw new Error(`demo import refused: ${res.status} ${JSON.stringify(accepted)}`);
  log.info({ job_id: accepted.job_id, status_url: `${gateway}${accepted.status_url}` }, 'demo import queued');
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const status = (await (await fetch(`${gateway}${accepted.status_url}`, { headers: { authorization } })).json()) as JobStatusResponse;
    const seconds = (Date.now() - started) / 1000;
    const progress = { job_id: status.job_id, status: status.status, total: status.total, processed: status.processed, failed: status.failed, skipped: status.skipped };
    if (TERMINAL_JOB_STATUSES.includes(status.status)) {
      log.info({ ...progress, seconds, files_per_second: Math.round((status.processed / seconds) * 10) / 10 }, `demo import ${status.status}`);
      if (status.status === 'failed') throw new Error(`demo import failed: ${status.error}`);
      return;
    }
    log.info(progress, 'demo import progress');
  }
}

main().catch((err: unknown) => {
  log.error({ err: err instanceof Error ? err.message : err }, 'start failed');
  void shutdown(1);
});
