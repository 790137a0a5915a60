import { Queue } from 'bullmq';
import { closeQueue, type CopyBatchRef, createLogger, type Logger, QUEUES, redisConnection, serveApp } from '@drive-import/common';
import { createMetadataApp } from './app.ts';
import { openDb } from './db.ts';
import { createBatchDispatcher } from './dispatch.ts';
import type { JobLimits } from './files.ts';
import { createWebhooks, type WebhookOptions } from './webhooks.ts';
import { backfillStoredObjects } from './stored-objects.ts';
import { createJobEvents, type Publisher } from './job-events.ts';

export { createMetadataApp, type MetadataAppDeps } from './app.ts';
export { loadMetadataServiceConfig, metadataServiceEnv, type MetadataServiceConfig } from './config.ts';
export { type Db, openDb } from './db.ts';
export { createBatchDispatcher, type BatchDispatcher } from './dispatch.ts';
export { createJobEvents, jobEventsChannel, type JobEvents } from './job-events.ts';
export { createToken, ENV_ADMIN_NAME, hashToken, listTokens, revokeToken, setQuota, verifyTokenHash, type Quota } from './tokens.ts';

export interface MetadataServiceOptions {
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  log?: Logger;
  /** The copy queue this service puts sealed batches on. */
  redisUrl: string;
  queuePrefix: string;
  /** How often sealed batches not yet on the queue are looked for (default 10 s). */
  sweepIntervalMs?: number;
  /** INTERNAL_TOKEN: required on every route but /health when set (always, in the service's process). */
  internalToken?: string;
  /** Per-job caps (MAX_FILES_PER_JOB, MAX_BYTES_PER_JOB). */
  limits?: JobLimits;
  /** Job callbacks (WEBHOOK_SECRET set); off when omitted. */
  webhooks?: WebhookOptions;
  /** How often ended jobs with a pending callback are looked for (default 1 s). */
  webhookSweepMs?: number;
}

export interface RunningMetadataService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Open the database (applying pending migrations), then serve the API and own the copy queue's batches. close() stops all. */
export async function startMetadataService(options: MetadataServiceOptions): Promise<RunningMetadataService> {
  const log = options.log ?? createLogger('metadata-service');
  const db = await openDb(options.databaseUrl, log);
  await backfillStoredObjects(db, log);
  const copyQueue = new Queue<CopyBatchRef>(QUEUES.copy, { connection: redisConnection(options.redisUrl), prefix: options.queuePrefix });
  copyQueue.on('error', (err) => log.error({ err: err.message }, 'copy queue error'));
  // Published with the copy queue's own connection: no second Redis client.
  const jobEvents = createJobEvents(db, async () => (await copyQueue.client) as unknown as Publisher, options.queuePrefix, log);
  const dispatcher = createBatchDispatcher(db, copyQueue, log, (jobId) => jobEvents.changed(jobId));
  const webhooks = options.webhooks ? createWebhooks(db, options.redisUrl, options.queuePrefix, options.webhooks, log) : undefined;
  try {
    const server = await serveApp(createMetadataApp({ db, log, dispatcher, internalToken: options.internalToken, limits: options.limits, webhooks: options.webhooks, jobEvents }), { port: options.port, hostname: options.host });
    dispatcher.start(options.sweepIntervalMs ?? 10_000);
    webhooks?.start(options.webhookSweepMs ?? 1000);
    log.info({ url: server.url, database: db.provider }, 'metadata-service listening');
    return {
      url: server.url,
      port: server.port,
      close: async () => {
        await server.close();
        await webhooks?.close();
        await dispatcher.close();
        await jobEvents.close();
        await closeQueue(copyQueue);
        await db.close();
      },
    };
  } catch (err) {
    await jobEvents.close();
    await webhooks?.close();
    await closeQueue(copyQueue);
    await db.close();
    throw err;
  }
}
