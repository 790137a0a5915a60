/** Real parts for worker tests: Redis, the Drive emulator, the metadata-service, s3rver; and helpers around them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import {
  AddFilesResponse,
  batchIdFor,
  CopyBatch,
  COPY_JOB_OPTIONS,
  createLogger,
  FileListResponse,
  JobSummary,
  ListingCompleteResponse,
  objectKey,
  QUEUES,
  redisConnection,
  ServiceClient,
  TERMINAL_JOB_STATUSES,
  type Destination,
  type FileRecord,
  type ListedFile,
} from '@drive-import/common';
import { startDriveEmulator, type DriveEmulator, type Faults, type TreeSpec } from '@drive-import/drive-emulator';
import { startMetadataService, type RunningMetadataService } from '@drive-import/metadata-service';
import {
  deletePrefix,
  TEST_INTERNAL_TOKEN,
  findOrStartRedis,
  freePort,
  startS3Server,
  tempDir,
  uniqueName,
  waitFor,
  type RedisHandle,
  type S3ServerHandle,
} from '@drive-import/testing';
import { loadWorkerConfig, startWorker, type RunningWorker, type WorkerConfig } from '../src/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const quietLog = createLogger('worker-test', process.env.TEST_LOG_LEVEL ?? 'silent');

let redisHandle: Promise<RedisHandle> | undefined;
/** One Redis per test process; each test gets its own prefix. */
export const sharedRedis = () => (redisHandle ??= findOrStartRedis());

export interface TestEnv {
  prefix: string;
  redisUrl: string;
  emulator: DriveEmulator;
  s3: S3ServerHandle;
  bucket: string;
  dbUrl: string;
  metadataPort: number;
  metadata: RunningMetadataService | null;
  metadataUrl: string;
  queue: Queue;
  /** Worker settings as env vars (for child processes); `config()` parses them. */
  env(extra?: Record<string, string>): Record<string, string>;
  config(extra?: Record<string, string>): WorkerConfig;
  startMetadata(): Promise<void>;
  stopMetadata(): Promise<void>;
  /** An in-process worker, closed by cleanup() if the test has not closed it. */
  startWorker(extra?: Record<string, string>, stalledIntervalMs?: number): Promise<RunningWorker>;
  /** `tsx worker/src/main.ts` as a child process, killed by cleanup() if still running. */
  spawnWorker(extra?: Record<string, string>): Promise<WorkerChild>;
  cleanup(): Promise<void>;
}

export interface WorkerChild {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function setup(options: { tree: TreeSpec; faults?: Faults }): Promise<TestEnv> {
  const redis = await sharedRedis();
  const prefix = uniqueName('wt');
  const tmp = await tempDir('worker-test');
  const emulator = await startDriveEmulator({ tree: options.tree, faults: options.faults });
  const bucket = uniqueName('b');
  const s3 = await startS3Server({ bucket });
  const metadataPort = await freePort();
  const dbUrl = `file:${join(tmp.path, 't.db')}`;
  const queue = new Queue(QUEUES.copy, { connection: redisConnection(redis.url), prefix });
  const workers: RunningWorker[] = [];
  const children: ChildProcess[] = [];

  const baseEnv: Record<string, string> = {
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    // The keys the test batches carry (see copyBatch below): the drivers refuse any other prefix.
    STORAGE_KEY_PREFIX: 'test',
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    DRIVE_API_ROOT_URL: emulator.url,
    GOOGLE_API_KEY: 'emulator',
    DRIVE_MAX_REQUESTS_PER_SECOND: '1000',
    METADATA_SERVICE_URL: `http://127.0.0.1:${metadataPort}`,
    STORAGE_PROVIDER: 's3',
    S3_BUCKET: bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    LOCAL_STORAGE_DIR: join(tmp.path, 'objects'),
    WORKER_CONCURRENCY: '8',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    WORKER_PORT: '0',
  };

  const env: TestEnv = {
    prefix,
    redisUrl: redis.url,
    emulator,
    s3,
    bucket,
    dbUrl,
    metadataPort,
    metadata: null,
    metadataUrl: baseEnv.METADATA_SERVICE_URL!,
    queue,
    env: (extra = {}) => ({ ...baseEnv, ...extra }),
    config: (extra = {}) => loadWorkerConfig({ ...baseEnv, ...extra }),
    async startMetadata() {
      env.metadata = await startMetadataService({ databaseUrl: dbUrl, port: metadataPort, log: quietLog, redisUrl: redis.url, queuePrefix: prefix, internalToken: TEST_INTERNAL_TOKEN });
    },
    async stopMetadata() {
      await env.metadata?.close();
      env.metadata = null;
    },
    async startWorker(extra = {}, stalledIntervalMs) {
      const w = await startWorker(env.config(extra), { log: quietLog, port: 0, stalledIntervalMs });
      workers.push(w);
      return w;
    },
    async spawnWorker(extra = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'worker/src/main.ts'], {
        cwd: REPO_ROOT,
        // info: the 'worker started' line carries the URL.
        env: { ...process.env, ...baseEnv, LOG_LEVEL: 'info', ...extra, LOG_PRETTY: 'false', NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const url = await waitFor(
        'worker child to start',
        async () => {
          if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}):\n${out}`);
          const m = /"url":"(http:\/\/[^"]+)"[^\n]*worker started/.exec(out);
          return m?.[1];
        },
        90_000, // a loaded 2-core box takes a while to load tsx, BullMQ and the AWS SDK

      );
      return { child, url, output: () => out, exited };
    },
    async cleanup() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.allSettled(workers.map((w) => w.close()));
      await queue.close();
      await env.stopMetadata();
      await Promise.allSettled([emulator.close(), s3.stop()]);
      await deletePrefix(redis.url, prefix);
      await tmp.cleanup();
    },
  };
  await env.startMetadata();
  return env;
}

export const metadataClient = (env: TestEnv) => new ServiceClient('metadata-service', env.metadataUrl, { timeoutMs: 10_000, token: TEST_INTERNAL_TOKEN });

/** The rows a listing would send for every image in the emulator's tree. Keys are unique by file id. */
export function listedFiles(env: TestEnv): ListedFile[] {
  return env.emulator.tree.expectedImages().map((img) => ({
    drive_id: img.id,
    name: img.name,
    folder_path: img.folderPath,
    mime_type: img.mimeType,
    size: img.size,
    md5: img.md5,
    modified_time: img.modifiedTime,
    width: img.width,
    height: img.height,
    taken_at: img.takenAt,
    storage_key: objectKey({ prefix: 'test', rootFolderId: env.emulator.rootId, folderPath: img.folderPath, name: `${img.id}-${img.name}` }),
  }));
}

/**
 * Create a job in the metadata-service as the listing would, returning its batches as a worker
 * fetches them. The metadata-service has put them on the copy queue already.
 */
export async function createJob(env: TestEnv, options: { batchSize: number; destination?: Destination; thumbnails?: boolean }): Promise<{ jobId: string; batches: CopyBatch[]; files: ListedFile[] }> {
  const meta = metadataClient(env);
  const job = await meta.call('POST', '/jobs', {
    body: { folder_id: env.emulator.rootId, folder_name: 'root', resource_key: null, destination: options.destination ?? 's3', batch_size: options.batchSize, thumbnails: options.thumbnails ?? false },
    schema: JobSummary,
  });
  await meta.call('PATCH', `/jobs/${job.job_id}`, { body: { status: 'listing' } });
  const files = listedFiles(env);
  let sealed = 0;
  for (let i = 0; i < files.length; i += 500) {
    sealed += (await meta.call('POST', `/jobs/${job.job_id}/files`, { body: { files: files.slice(i, i + 500) }, schema: AddFilesResponse })).batches_sealed;
  }
  sealed += (await meta.call('POST', `/jobs/${job.job_id}/listing-complete`, { schema: ListingCompleteResponse })).batches_sealed;
  const batches = await Promise.all(
    Array.from({ length: sealed }, (_, i) => meta.call('GET', `/batches/${batchIdFor(job.job_id, i)}`, { schema: CopyBatch })),
  );
  return { jobId: job.job_id, batches, files };
}

/** Put batches on the copy queue as the metadata-service does (again: the batch id makes it a no-op). */
export async function enqueue(env: TestEnv, batches: CopyBatch[]): Promise<void> {
  await env.queue.addBulk(batches.map((b) => ({ name: 'copy', data: { job_id: b.job_id, batch_id: b.batch_id }, opts: { ...COPY_JOB_OPTIONS, jobId: b.batch_id } })));
}

export async function waitForJob(env: TestEnv, jobId: string, timeoutMs = 60_000): Promise<JobSummary> {
  return waitFor(
    `job ${jobId} to finish`,
    async () => {
      const job = await metadataClient(env).call('GET', `/jobs/${jobId}`, { schema: JobSummary });
      return TERMINAL_JOB_STATUSES.includes(job.status) ? job : null;
    },
    timeoutMs,
    200,
  );
}

export async function jobFiles(env: TestEnv, jobId: string): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  let cursor: string | null = null;
  do {
    const query: Record<string, string | number> = cursor ? { per_page: 1000, cursor } : { per_page: 1000 };
    const res: FileListResponse = await metadataClient(env).call('GET', `/jobs/${jobId}/files`, { query, schema: FileListResponse });
    for (const f of res.files) out.push(f);
    cursor = res.next_cursor;
  } while (cursor);
  return out;
}

/** Every object in the test bucket: key -> md5 of its bytes. */
export async function bucketObjects(env: TestEnv): Promise<Map<string, string>> {
  const client = new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: env.bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      token = page.NextContinuationToken;
    } while (token);
    const out = new Map<string, string>();
    for (const key of keys) {
      const obj = await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
      out.set(key, createHash('md5').update(await obj.Body!.transformToByteArray()).digest('hex'));
    }
    return out;
  } finally {
    client.destroy();
  }
}
