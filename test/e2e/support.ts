/**
 * End-to-end support: the Drive emulator, Redis, a fresh SQLite file and the services as processes
 * (exactly what `npm start` runs), driven through the gateway's public API.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { JobStatusResponse } from '@drive-import/common';
import { TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { startDriveEmulator } from '@drive-import/drive-emulator';
import { LOCAL_META_DIR } from '@drive-import/storage';
import { deletePrefix, findOrStartRedis, startStack, tempDir, uniqueName, waitFor, type Stack } from '@drive-import/testing';

export type Emulator = Awaited<ReturnType<typeof startDriveEmulator>>;

export interface System {
  emulator: Emulator;
  stack: Stack;
  dir: string;
  importFolder(folderUrl: string, destination?: string): Promise<JobStatusResponse>;
  close(): Promise<void>;
}

/** Start the emulator with `tree` and every service, storing into the env's destination. */
export async function startSystem(tree: Parameters<typeof startDriveEmulator>[0]['tree'], storageEnv: NodeJS.ProcessEnv): Promise<System> {
  const redis = await findOrStartRedis();
  const dir = await tempDir('e2e');
  const emulator = await startDriveEmulator({ tree });
  const prefix = uniqueName('e2e');
  // A stack that fails to start must not leave the emulator (an open server) keeping the test process alive.
  const cleanup = async () => {
    await emulator.close();
    await deletePrefix(redis.url, prefix);
    await redis.stop();
    await dir.cleanup();
  };
  const stack = await startStack({
    freePorts: true,
    stdio: process.env.E2E_LOGS ? 'inherit' : 'ignore',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.E2E_LOGS ? 'info' : 'warn',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: `file:${join(dir.path, 'meta.db')}`,
      DRIVE_API_ROOT_URL: emulator.url,
      DRIVE_MAX_REQUESTS_PER_SECOND: '100000',
      GOOGLE_API_KEY: '',
      GOOGLE_APPLICATION_CREDENTIALS: '',
      LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
      // Off unless a test turns them on (thumbnails.test.ts): the others count objects.
      THUMBNAILS: 'false',
      ...storageEnv,
    },
  }).catch(async (err: unknown) => {
    await cleanup();
    throw err;
  });
  const gateway = stack.gatewayUrl;
  return {
    emulator,
    stack,
    dir: dir.path,
    async importFolder(folderUrl, destination) {
      const res = await fetch(`${gateway}/api/import/google-drive`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...stack.adminHeaders },
        body: JSON.stringify(destination ? { folder_url: folderUrl, destination } : { folder_url: folderUrl }),
      });
      const accepted = (await res.json()) as { job_id: string; status_url: string; total_images: null };
      if (res.status !== 202) throw new Error(`import refused: ${res.status} ${JSON.stringify(accepted)}`);
      return waitFor(
        `job ${accepted.job_id} to finish`,
        async () => {
          const status = (await (await fetch(`${gateway}${accepted.status_url}`, { headers: stack.adminHeaders })).json()) as JobStatusResponse;
          return TERMINAL_JOB_STATUSES.includes(status.status) ? status : null;
        },
        240_000,
        250,
      );
    },
    async close() {
      await stack.stop();
      await cleanup();
    },
  };
}

export const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** Every object below a local store's root, as key -> md5 (the driver's md5 sidecars and upload temp files are not objects). */
export async function localObjects(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    if (relative(root, full).split('/')[0] === LOCAL_META_DIR) continue;
    // `.tmp-<uuid>`: an upload in progress, or one a killed process left (swept later); no key can name it.
    if (entry.name.startsWith('.tmp-')) continue;
    out.set(relative(root, full), md5(await readFile(full)));
  }
  return out;
}
