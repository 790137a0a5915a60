import { z } from 'zod';
import { batchEnv, ConfigError, envBoolean, driveEnv, internalAuthEnv, loadConfig, loggingEnv, portsEnv, positiveInt, redisEnv, serviceUrlsEnv, storageEnv } from '@drive-import/common';

export const importConfigShape = {
  ...loggingEnv,
  ...redisEnv,
  ...portsEnv,
  ...serviceUrlsEnv,
  ...driveEnv,
  ...storageEnv,
  ...batchEnv,
  ...internalAuthEnv,
  /**
   * Thumbnails for an import whose request does not say (`thumbnails` in POST /api/import/google-drive);
   * the job keeps the answer. Off by default: they halve S1 on 2 cores (docs/performance.md).
   */
  THUMBNAILS: envBoolean.default(false),
  /** Bind address; 0.0.0.0 in containers. */
  IMPORT_SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
  /** Drive calls in flight at once per listing job (folders listed in parallel). */
  LISTING_CONCURRENCY: positiveInt(8, 256),
  /** Files per POST /jobs/:id/files (the contract allows up to 5,000). */
  // 250: each chunk is one short write transaction, so status reads never wait long behind one.
  LISTING_CHUNK_SIZE: positiveInt(250, 5000),
  /** Listing jobs one process runs at once. */
  LISTING_JOB_CONCURRENCY: positiveInt(2, 64),
  /** A listing's lock lapses this long after its process died (BullMQ lockDuration; renewed at half of it). */
  LISTING_LOCK_DURATION_MS: positiveInt(30_000, 3600_000),
  /** How often this process looks for listings whose lock lapsed, to take them over (BullMQ stalledInterval). */
  LISTING_STALLED_INTERVAL_MS: positiveInt(30_000, 3600_000),
  /** On SIGTERM, active listings get this long to finish before they are released to the queue. */
  LISTING_SHUTDOWN_GRACE_MS: positiveInt(10_000, 3600_000),
};

export type ImportConfig = z.infer<z.ZodObject<typeof importConfigShape>>;

/** True for Google's own API host, where a request without credentials can only fail. */
export function isGoogleRootUrl(rootUrl: string): boolean {
  const host = new URL(rootUrl).hostname;
  return host === 'googleapis.com' || host.endsWith('.googleapis.com');
}

/** Env -> config; a real Drive without credentials is a start-up error, not a 403 on every import. */
export function checkImportConfig(config: ImportConfig): ImportConfig {
  if (isGoogleRootUrl(config.DRIVE_API_ROOT_URL) && !config.GOOGLE_API_KEY && !config.GOOGLE_APPLICATION_CREDENTIALS) {
    throw new ConfigError(
      `Invalid configuration: Google Drive (${config.DRIVE_API_ROOT_URL}) needs credentials: set GOOGLE_API_KEY ` +
        '(folders shared "anyone with the link") or GOOGLE_APPLICATION_CREDENTIALS (a service account JSON key file), ' +
        'or point DRIVE_API_ROOT_URL at the Drive emulator.',
    );
  }
  return config;
}

export const loadImportConfig = (env: NodeJS.ProcessEnv = process.env): ImportConfig => checkImportConfig(loadConfig(importConfigShape, env));
