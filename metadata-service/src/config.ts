import { databaseEnv, loadConfig, loggingEnv, portsEnv } from '@drive-import/common';
import { z } from 'zod';

export const metadataServiceEnv = {
  ...loggingEnv,
  ...databaseEnv,
  METADATA_SERVICE_PORT: portsEnv.METADATA_SERVICE_PORT,
  /** Bind address; 0.0.0.0 in containers. */
  METADATA_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
};

export type MetadataServiceConfig = ReturnType<typeof loadMetadataServiceConfig>;
export const loadMetadataServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(metadataServiceEnv, env);
