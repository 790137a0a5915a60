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
  METADATA_SERVICE_PORT: portsEnv.METADATA_SERVICE_PORT,
  /** Bind address; 0.0.0.0 in containers. */
  METADATA_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
};

export type MetadataServiceConfig = ReturnType<typeof loadMetadataServiceConfig>;
export const loadMetadataServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(metadataServiceEnv, withLegacyDatabaseEnv(env));
