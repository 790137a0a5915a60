import { runService } from '@drive-import/common';
import { loadMetadataServiceConfig, startMetadataService } from './index.ts';

await runService('metadata-service', loadMetadataServiceConfig, (config, log) =>
  startMetadataService({
    databaseUrl: config.DATABASE_URL,
    port: config.METADATA_SERVICE_PORT,
    host: config.METADATA_SERVICE_HOST,
    redisUrl: config.REDIS_URL,
    queuePrefix: config.QUEUE_PREFIX,
    sweepIntervalMs: config.BATCH_SWEEP_INTERVAL_MS,
    internalToken: config.INTERNAL_TOKEN,
    limits: { maxFiles: config.MAX_FILES_PER_JOB, maxBytes: config.MAX_BYTES_PER_JOB },
    webhooks: config.WEBHOOK_SECRET
      ? {
          secret: config.WEBHOOK_SECRET,
          allowHosts: config.WEBHOOK_ALLOW_HOSTS,
          maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
          retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        }
      : undefined,
    log,
  }),
);
