import { internalAuthEnv, loadConfig, loggingEnv, portsEnv, positiveInt, serviceUrlsEnv, storageEnv } from '@drive-import/common';
import { z } from 'zod';

export const storageServiceEnv = {
  ...loggingEnv,
  ...storageEnv,
  ...internalAuthEnv,
  STORAGE_SERVICE_PORT: portsEnv.STORAGE_SERVICE_PORT,
  /** Our own address as others reach it: the base of local-store read URLs. */
  STORAGE_SERVICE_URL: serviceUrlsEnv.STORAGE_SERVICE_URL,
  /** The catalog: DELETE /objects/* removes only keys the metadata-service knows as stored objects. */
  METADATA_SERVICE_URL: serviceUrlsEnv.METADATA_SERVICE_URL,
  /** How often the store health probe (a small write + delete) runs in the background; /health reports its last result. */
  STORAGE_HEALTH_INTERVAL_MS: positiveInt(30_000, 3_600_000),
  /** Bind address; 0.0.0.0 in containers. */
  STORAGE_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
};

export type StorageServiceConfig = ReturnType<typeof loadStorageServiceConfig>;
export const loadStorageServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(storageServiceEnv, env);
