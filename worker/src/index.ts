/** Run a worker in-process (tests, scripts/start.ts, benchmarks): `startWorker(config) -> {url, close}`. */
import { setMaxListeners } from 'node:events';
import { Worker } from 'bullmq';
import { configuredDestinations, createLogger, QUEUES, redisConnection, serveApp, ServiceClient, type Logger } from '@drive-import/common';
import { createDrivePacer, createMediaDownloader } from '@drive-import/drive';
import { createStorageDriver, normalizeKeyPrefix, type StorageDriver, type StorageProvider } from '@drive-import/storage';
import { createAdaptiveLimit } from './adaptive-limit.ts';
import { createJobWatch } from './job-watch.ts';
import { createWorkerApp } from './app.ts';
import type { WorkerConfig } from './config.ts';
import { createBatchProcessor, type CopyJobData } from './copy-batch.ts';
import { createWorkerMetrics } from './metrics.ts';

export { createWorkerApp, type WorkerAppDeps } from './app.ts';
export { loadWorkerConfig, workerConfigShape, type WorkerConfig } from './config.ts';
export type { CopyJobData } from './copy-batch.ts';

export interface StartWorkerOptions {
  log?: Logger;
  /** HTTP port for /health and /metrics (default WORKER_PORT; 0 picks a free one). */
  port?: number;
  /** How often BullMQ looks for batches whose worker died (default WORKER_STALLED_INTERVAL_MS). */
  stalledIntervalMs?: number;
}

export interface RunningWorker {
  url: string;
  /** Finish (or, after WORKER_SHUTDOWN_GRACE_MS, release) active batches, then close everything. */
  close(): Promise<void>;
}

export async function startWorker(config: WorkerConfig, options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const log = options.log ?? createLogger('worker', config.LOG_LEVEL);
  const stores = new Map<StorageProvider, StorageDriver>();
  for (const provider of configuredDestinations(config)) stores.set(provider, createStorageDriver(provider, config));
  const pacer = createDrivePacer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, maxPerSecond: config.DRIVE_MAX_REQUESTS_PER_SECOND });
  const media = createMediaDownloader({
    rootUrl: config.DRIVE_API_ROOT_URL,
    apiKey: config.GOOGLE_API_KEY,
    credentialsFile: config.GOOGLE_APPLICATION_CREDENTIALS,
    readTimeoutMs: config.DRIVE_READ_TIMEOUT_MS,
  });
  const metadata = new ServiceClient('metadata-service', config.METADATA_SERVICE_URL, { token: config.INTERNAL_TOKEN });
  const metrics = createWorkerMetrics();
  const shutdown = new AbortController();
  // Every file in flight listens on it (through its per-try signal): far more than Node's default 10.
  setMaxListeners(0, shutdown.signal);

  const limit = createAdaptiveLimit({
    min: config.WORKER_MIN_CONCURRENCY,
    max: config.WORKER_CONCURRENCY,
    memoryBudgetBytes: config.WORKER_MEMORY_BUDGET_MB * 1024 * 1024,
    onChange: (n) => metrics.concurrency.set(n),
  });
  metrics.concurrency.set(limit.limit);
  const processor = createBatchProcessor({
    media,
    pacer,
    metrics,
    maxAttempts: config.FILE_MAX_ATTEMPTS,
    attemptTimeoutMs: config.FILE_ATTEMPT_TIMEOUT_MS,
    storeOutageMs: config.STORE_OUTAGE_TOLERANCE_MS,
    // Used for the batches whose job asked for thumbnails (CopyBatch.thumbnails).
    thumbnails: { maxBytes: config.THUMBNAIL_MAX_BYTES, keyPrefix: normalizeKeyPrefix(config.STORAGE_KEY_PREFIX) },
    stores,
    limit,
    observeFileTime: (ms, pacedMs) => limit.observe(ms, pacedMs),
    metadata,
    log,
    shutdown: shutdown.signal,
    jobEnded: createJobWatch(metadata),
  });
  const worker = new Worker<CopyJobData>(QUEUES.copy, processor, {
    connection: redisConnection(config.REDIS_URL),
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_BATCH_CONCURRENCY,
    // A batch's lock lapses this long after its worker died; then another worker takes it over.
    stalledInterval: options.stalledIntervalMs ?? config.WORKER_STALLED_INTERVAL_MS,
    lockDuration: options.stalledIntervalMs ?? config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
    // Stored on each batch it takes (BullMQ's processedBy): which replica copied what.
    name: metrics.workerId,
  });
  worker.on('failed', (job, err) => log.warn({ batch_id: job?.id, attempts: job?.attemptsMade, err: err.message }, 'batch attempt failed'));
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  const app = createWorkerApp({
    log,
    internalToken: config.INTERNAL_TOKEN,
    registry: metrics.registry,
    pingRedis: async () => ((await worker.client) as unknown as { ping(): Promise<string> }).ping(),
    pingMetadata: () => metadata.call('GET', '/health', { timeoutMs: 1500 }),
  });
  const server = await serveApp(app, { port: options.port ?? config.WORKER_PORT, hostname: config.WORKER_HOST });
  await worker.waitUntilReady();
  log.info({ url: server.url, worker_id: metrics.workerId, queue: QUEUES.copy, prefix: config.QUEUE_PREFIX, concurrency: { min: config.WORKER_MIN_CONCURRENCY, max: config.WORKER_CONCURRENCY } }, 'worker started');

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Stop taking batches and let active ones finish; past the grace period, release them.
    const grace = setTimeout(() => shutdown.abort(new Error('worker shutting down')), config.WORKER_SHUTDOWN_GRACE_MS);
    try {
      await worker.close();
    } finally {
      clearTimeout(grace);
    }
    await Promise.allSettled([pacer.close(), media.close(), server.close(), ...[...stores.values()].map((s) => s.close())]);
    log.info('worker stopped');
  };
  return { url: server.url, close: () => (closing ??= close()) };
}
