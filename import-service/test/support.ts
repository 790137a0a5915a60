/**
 * Real parts for the import-service tests: Redis (unique queue prefix), the Drive emulator over
 * HTTP, and a real metadata-service on a fresh SQLite file.
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import {
  CopyBatch,
  CopyBatchRef,
  FileListResponse,
  JobSummary,
  QUEUES,
  ServiceClient,
  createLogger,
  redisConnection,
  type CreateImportResponse,
  type FileRecord,
} from '@drive-import/common';
import { startDriveEmulator, type DriveEmulator, type DriveTree, type Faults, type TreeSpec } from '@drive-import/drive-emulator';
import { startMetadataService, type RunningMetadataService } from '@drive-import/metadata-service';
import { deletePrefix, TEST_INTERNAL_TOKEN, findOrStartRedis, tempDir, uniqueName, waitFor } from '@drive-import/testing';
import { checkImportConfig, importConfigShape, type ImportConfig } from '../src/config.ts';
import { loadConfig } from '@drive-import/common';

export const testLog = createLogger('import-service-test', process.env.TEST_LOGS ? 'debug' : 'silent');

export interface Parts {
  redisUrl: string;
  prefix: string;
  emulator: DriveEmulator;
  metadataService: RunningMetadataService;
  metadata: ServiceClient;
  copyQueue: Queue;
  listingQueue: Queue;
  /** The env a service of this test gets (also for child processes). */
  env: Record<string, string>;
  config(extra?: Record<string, string>): ImportConfig;
  close(): Promise<void>;
}

export async function startParts(tree: DriveTree | TreeSpec, faults: Faults = {}): Promise<Parts> {
  const redis = await findOrStartRedis();
  const dir = await tempDir('import-test');
  const prefix = uniqueName('t');
  const emulator = await startDriveEmulator({ tree, faults });
  const metadataService = await startMetadataService({
    databaseUrl: `file:${join(dir.path, 't.db')}`,
    port: 0,
    redisUrl: redis.url,
    queuePrefix: prefix,
    internalToken: TEST_INTERNAL_TOKEN,
    log: createLogger('metadata-service', process.env.TEST_LOGS ? 'info' : 'silent'),
  });
  const env: Record<string, string> = {
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    METADATA_SERVICE_URL: metadataService.url,
    DRIVE_API_ROOT_URL: emulator.url,
    DRIVE_MAX_REQUESTS_PER_SECOND: '100000',
    STORAGE_PROVIDER: 'local',
    LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
    BATCH_SIZE: '100',
    LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'silent',
  };
  const connection = redisConnection(redis.url);
  const copyQueue = new Queue(QUEUES.copy, { connection, prefix });
  const listingQueue = new Queue(QUEUES.listing, { connection, prefix });
  return {
    redisUrl: redis.url,
    prefix,
    emulator,
    metadataService,
    metadata: new ServiceClient('metadata-service', metadataService.url, { token: TEST_INTERNAL_TOKEN }),
    copyQueue,
    listingQueue,
    env,
    config: (extra = {}) => checkImportConfig(loadConfig(importConfigShape, { ...env, ...extra })),
    async close() {
      await copyQueue.close();
      await listingQueue.close();
      await metadataService.close();
      await emulator.close();
      await deletePrefix(redis.url, prefix);
      await redis.stop();
      await dir.cleanup();
    },
  };
}

/** What the gateway sends every internal service. */
export const internalAuth = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };

export async function postImport(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/imports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...internalAuth },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function importFolder(url: string, folderUrl: string): Promise<CreateImportResponse> {
  const { status, json } = await postImport(url, { folder_url: folderUrl });
  if (status !== 202) throw new Error(`import refused: ${status} ${JSON.stringify(json)}`);
  return json as unknown as CreateImportResponse;
}

export const getJob = (parts: Parts, jobId: string) => parts.metadata.call('GET', `/jobs/${jobId}`, { schema: JobSummary });

export async function waitListed(parts: Parts, jobId: string, timeoutMs = 120_000): Promise<JobSummary> {
  return waitFor(
    `job ${jobId} listing to complete`,
    async () => {
      const job = await getJob(parts, jobId);
      if (job.status === 'failed') throw new Error(`job failed: ${job.error}`);
      return job.listing_complete ? job : null;
    },
    timeoutMs,
    50,
  );
}

/** Every file row of a job, through the metadata API. */
export async function allFiles(parts: Parts, jobId: string): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  let cursor: string | null = null;
  do {
    const query: Record<string, string | number> = cursor ? { per_page: 1000, cursor } : { per_page: 1000 };
    const res: FileListResponse = await parts.metadata.call('GET', `/jobs/${jobId}/files`, { query, schema: FileListResponse });
    for (const f of res.files) out.push(f);
    cursor = res.next_cursor;
  } while (cursor);
  return out;
}

/**
 * Every copy batch on the copy queue (nobody consumes it in these tests), keyed by BullMQ job id,
 * with its files as a worker gets them from the metadata-service.
 */
export async function copyBatches(parts: Parts): Promise<Map<string, CopyBatch>> {
  const jobs = await parts.copyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'paused']);
  const out = new Map<string, CopyBatch>();
  for (const j of jobs) {
    if (!j?.id) continue;
    if (out.has(j.id)) throw new Error(`copy job ${j.id} listed twice`);
    const ref = CopyBatchRef.parse(j.data);
    if (ref.batch_id !== j.id) throw new Error(`copy job ${j.id} carries batch ${ref.batch_id}`);
    out.set(j.id, await parts.metadata.call('GET', `/batches/${ref.batch_id}`, { schema: CopyBatch }));
  }
  return out;
}
