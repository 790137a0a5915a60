/**
 * Test support: a fresh SQLite file per test, the real app over it with a real copy queue (Redis,
 * its own prefix), and listed-file builders.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { type CopyBatchRef, createLogger, type ListedFile, QUEUES, redisConnection } from '@drive-import/common';
import { deletePrefix, findOrStartRedis, tempDir, uniqueName } from '@drive-import/testing';
import { createMetadataApp } from '../src/app.ts';
import { type Db, openDb } from '../src/db.ts';
import { type BatchDispatcher, createBatchDispatcher } from '../src/dispatch.ts';
import type { JobLimits } from '../src/files.ts';

export interface TestService {
  db: Db;
  url: string;
  copyQueue: Queue<CopyBatchRef>;
  dispatcher: BatchDispatcher;
  /** Batch ids on the copy queue (nobody consumes it here), sorted by batch index. */
  queuedBatchIds(jobId?: string): Promise<string[]>;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function freshService(options: { limits?: JobLimits } = {}): Promise<TestService> {
  const dir = await tempDir('metadata-test');
  const url = `file:${join(dir.path, 'test.db')}`;
  const db = await openDb(url);
  const redis = await findOrStartRedis();
  const prefix = uniqueName('meta');
  const copyQueue = new Queue<CopyBatchRef>(QUEUES.copy, { connection: redisConnection(redis.url), prefix });
  const log = createLogger('metadata-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const dispatcher = createBatchDispatcher(db, copyQueue, log);
  const app = createMetadataApp({ db, log, dispatcher, limits: options.limits });
  return {
    db,
    url,
    copyQueue,
    dispatcher,
    async queuedBatchIds(jobId) {
      const jobs = await copyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'paused']);
      const ids = jobs.flatMap((j) => (j?.id && (!jobId || j.data.job_id === jobId) ? [j.id] : []));
      const index = (id: string) => Number(id.slice(id.lastIndexOf('-b') + 2));
      return ids.sort((a, b) => index(a) - index(b));
    },
    async request(method, path, body) {
      const res = await app.request(path, {
        method,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await dispatcher.close();
      await copyQueue.close();
      await deletePrefix(redis.url, prefix);
      await redis.stop();
      await db.close();
      await dir.cleanup();
    },
  };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** A listed image file; `n` makes the drive id, name and key unique. */
export function listedFile(n: number, overrides: Partial<ListedFile> = {}): ListedFile {
  const driveId = `file${String(n).padStart(8, '0')}xx`;
  return {
    drive_id: driveId,
    name: `IMG_${n}.jpg`,
    folder_path: 'Photos/2024',
    mime_type: 'image/jpeg',
    size: 1000 + n,
    md5: md5(`content-${n}`),
    modified_time: '2024-05-01T10:00:00.000Z',
    width: 4000,
    height: 3000,
    taken_at: '2024:05:01 09:59:58',
    storage_key: `drive-import/root/Photos/2024/IMG_${n}.jpg`,
    ...overrides,
  };
}

export const files = (from: number, count: number) => Array.from({ length: count }, (_, i) => listedFile(from + i));

export const FOLDER_ID = 'folderAbcdefghij0123';

export async function createJob(svc: TestService, batchSize = 100, destination = 's3'): Promise<string> {
  const res = await svc.request('POST', '/jobs', { folder_id: FOLDER_ID, folder_name: 'Photos', destination, batch_size: batchSize });
  if (res.status !== 201) throw new Error(`create job: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id as string;
}

/** A worker's result for a listed file. */
export const stored = (f: ListedFile) => ({ drive_id: f.drive_id, status: 'stored' as const, bytes: f.size, md5: f.md5, etag: `"${f.md5}"`, attempts: 1 });
export const failedResult = (f: ListedFile, error = 'HTTP 500 from Drive') => ({ drive_id: f.drive_id, status: 'failed' as const, error, attempts: 5 });
