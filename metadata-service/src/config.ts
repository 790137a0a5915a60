import { databaseEnv, internalAuthEnv, loadConfig, withLegacyDatabaseEnv, loggingEnv, portsEnv, positiveInt, redisEnv } from '@drive-import/common';
import { z } from 'zod';

export const metadataServiceEnv = {
  ...loggingEnv,
  ...databaseEnv,
  ...redisEnv,
  ...internalAuthEnv,
  /** How often sealed batches not yet on the copy queue (Redis was away, a crash) are enqueued. */
  BATCH_SWEEP_INTERVAL_MS: positiveInt(10_000, 3_600_000),
  /** Per-job caps: a listing that passes one fails the job with a message naming it. Unset = no cap. */
  MAX_FILES_PER_JOB: z.coerce.number().int().min(1).optional(),
  MAX_BYTES_PER_JOB: z.coerce.number().int().min(1).optional(),
  /** Signs job callbacks (HMAC-SHA256); unset = callback_url refused. */
  WEBHOOK_SECRET: z.string().regex(/^[\x21-\x7e]{16,512}$/, 'use at least 16 printable characters (e.g. openssl rand -hex 32)').optional(),
  /** Hosts a callback may name although they resolve to loopback or private addresses (comma-separated). */
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim()).filter(Boolean)),
  WEBHOOK_MAX_ATTEMPTS: positiveInt(8, 50),
  /** First retry delay; each next one doubles. */
  WEBHOOK_RETRY_BASE_MS: positiveInt(2000, 3_600_000),
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000, 120_000),
  METADATA_SERVICE_PORT: portsEnv.METADATA_SERVICE_PORT,
  /** Bind address; 0.0.0.0 in containers. */
  METADATA_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
};

export type MetadataServiceConfig = ReturnType<typeof loadMetadataServiceConfig>;
export const loadMetadataServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(metadataServiceEnv, withLegacyDatabaseEnv(env));
