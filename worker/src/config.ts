import { z } from 'zod';
import { driveEnv, internalAuthEnv, loadConfig, loggingEnv, portsEnv, positiveInt, redisEnv, serviceUrlsEnv, storageEnv, workerEnv } from '@drive-import/common';

export const workerConfigShape = {
  ...loggingEnv,
  ...redisEnv,
  ...driveEnv,
  ...storageEnv,
  ...workerEnv,
  ...internalAuthEnv,
  WORKER_PORT: portsEnv.WORKER_PORT,
  /** Bind address of /health and /metrics; 0.0.0.0 in containers. */
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  METADATA_SERVICE_URL: serviceUrlsEnv.METADATA_SERVICE_URL,
  /** Batches one process runs at once: 2-4 lets a batch's slow tail overlap the next batch's start. */
  WORKER_BATCH_CONCURRENCY: positiveInt(3, 64),
  /** A file waits out its store being unavailable this long past FILE_MAX_ATTEMPTS (ms). */
  STORE_OUTAGE_TOLERANCE_MS: positiveInt(300_000, 24 * 3600_000),
  /** A Drive download that sends no byte for this long (headers or body) is cut and retried (ms). */
  DRIVE_READ_TIMEOUT_MS: positiveInt(60_000, 3600_000),
  /** One attempt (download + upload) of one file may take this long before it counts as failed. */
  FILE_ATTEMPT_TIMEOUT_MS: positiveInt(300_000, 24 * 3600_000),
  /** How soon a batch whose worker died is taken over (BullMQ's lock duration and stalled check). */
  WORKER_STALLED_INTERVAL_MS: positiveInt(30_000, 3600_000),
  /**
   * How many times a batch may lose its worker (a crash, a kill, a lock that lapsed) and be taken
   * over before BullMQ gives it up (its maxStalledCount, 1 by default: two kills of the worker
   * holding a batch stranded it). Re-running a batch is safe; this only bounds a batch that keeps
   * killing its worker.
   */
  WORKER_MAX_STALLED_COUNT: positiveInt(10, 1000),
  /** On SIGTERM, active batches get this long to finish before they are released to the queue. */
  WORKER_SHUTDOWN_GRACE_MS: positiveInt(25_000, 3600_000),
  // Whether a batch gets thumbnails is its job's choice (CopyBatch.thumbnails: the import's
  // `thumbnails`, else the import-service's THUMBNAILS), not this worker's.
  /** Files larger than this get no thumbnail; also the most one file's thumbnail may buffer (50 MB). */
  THUMBNAIL_MAX_BYTES: positiveInt(50 * 1024 * 1024, 1024 * 1024 * 1024),
};

export type WorkerConfig = z.infer<z.ZodObject<typeof workerConfigShape>>;

export const loadWorkerConfig = (env: NodeJS.ProcessEnv = process.env): WorkerConfig => loadConfig(workerConfigShape, env);
