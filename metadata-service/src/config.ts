import { databaseEnv, loadConfig, loggingEnv, portsEnv, positiveInt, redisEnv } from '@drive-import/common';
import { z } from 'zod';

export const metadataServiceEnv = {
  ...loggingEnv,
  ...databaseEnv,
  ...redisEnv,
  /** How often sealed batches not yet on the copy queue (Redis was away, a crash) are enqueued. */
  BATCH_SWEEP_INTERVAL_MS: positiveInt(10_000, 3_600_000),
  METADATA_SERVICE_PORT: portsEnv.METADATA_SERVICE_PORT,
  /** Bind address; 0.0.0.0 in containers. */
  METADATA_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
};

export type MetadataServiceConfig = ReturnType<typeof loadMetadataServiceConfig>;
export const loadMetadataServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(metadataServiceEnv, env);
