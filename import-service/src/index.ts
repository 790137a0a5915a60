/** Run the import-service in-process (tests, scripts/start.ts): `startImportService(config) -> {url, port, close}`. */
import { Queue, Worker } from 'bullmq';
import {
  closeQueue,
  Counter,
  QUEUES,
  configuredDestinations,
  createLogger,
  createServiceMetrics,
  queueDepthGauge,
  redisConnection,
  serveApp,
  ServiceClient,
  type ListingJobData,
  type Logger,
  type Registry,
} from '@drive-import/common';
import { classifyDriveError, createDriveClient, createDrivePacer, type DriveClient } from '@drive-import/drive';
import { createImportApp } from './app.ts';
import type { ImportConfig } from './config.ts';
import { createListingProcessor } from './listing/listing-job.ts';

export { createImportApp, type ImportAppDeps } from './app.ts';
export { checkImportConfig, importConfigShape, loadImportConfig, type ImportConfig } from './config.ts';
export { parseFolderUrl, ACCEPTED_FORMS, type ParsedFolderUrl } from './drive-url.ts';
export { checkFolder, type CheckedFolder } from './folder-check.ts';
export { createListingProcessor, type ListingDeps, type ListingResult } from './listing/listing-job.ts';
export { walkFolderTree, type WalkOptions, type WalkStats } from './listing/walk.ts';

/**
 * Count every Drive API call this service makes (files.list pages, files.get) and its rate-limit
 * answers by reason, whichever code path made it: the calls themselves go through unchanged.
 */
export function instrumentDrive(drive: DriveClient, registry: Registry): DriveClient {
  const requests = new Counter({
    name: 'drive_import_import_service_drive_requests_total',
    help: 'Drive API requests sent (listing pages and folder checks), by method',
    labelNames: ['method'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'drive_import_import_service_drive_rate_limited_total',
    help: 'Drive rate-limit answers, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'drive_import_import_service_drive_errors_total',
    help: 'Failed Drive API requests, by status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [registry],
  });
  const files = new Proxy(drive.files, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return async (...args: unknown[]) => {
        requests.inc({ method: prop });
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          const failure = classifyDriveError(err);
          errors.inc({ status: String(failure.status ?? 'network'), reason: failure.reason ?? 'unknown' });
          if (failure.rateLimited) rateLimited.inc({ reason: failure.reason ?? String(failure.status) });
          throw err;
        }
      };
    },
  });
  // `files` is a read-only own property of the client: shadow it on an object that inherits the rest.
  return Object.create(drive, { files: { value: files, enumerable: true } }) as DriveClient;
}

export interface StartImportOptions {
  /** Default IMPORT_SERVICE_PORT; 0 picks a free one. */
  port?: number;
  host?: string;
  log?: Logger;
  /** Run the listing worker in this process (default true). */
  listingWorker?: boolean;
}

export interface RunningImportService {
  url: string;
  port: number;
  /** Stop taking listings, let active ones finish (or release them after the grace period), then close. */
  close(): Promise<void>;
}

export async function startImportService(config: ImportConfig, options: StartImportOptions = {}): Promise<RunningImportService> {
  const log = options.log ?? createLogger('import-service', config.LOG_LEVEL);
  const connection = redisConnection(config.REDIS_URL);
  const metrics = createServiceMetrics('import-service');
  // The emulator needs no key; Google's API does (loadImportConfig refuses to start without one).
  const drive = instrumentDrive(
    createDriveClient({ rootUrl: config.DRIVE_API_ROOT_URL, apiKey: config.GOOGLE_API_KEY, credentialsFile: config.GOOGLE_APPLICATION_CREDENTIALS }),
    metrics.registry,
  );
  const pacer = createDrivePacer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, maxPerSecond: config.DRIVE_MAX_REQUESTS_PER_SECOND });
  const metadata = new ServiceClient('metadata-service', config.METADATA_SERVICE_URL, { token: config.INTERNAL_TOKEN });
  const listingQueue = new Queue<ListingJobData>(QUEUES.listing, { connection, prefix: config.QUEUE_PREFIX });
  const copyQueue = new Queue(QUEUES.copy, { connection, prefix: config.QUEUE_PREFIX });
  for (const q of [listingQueue, copyQueue]) q.on('error', (err) => log.error({ err, queue: q.name }, 'queue error'));
  queueDepthGauge(metrics.registry, [listingQueue, copyQueue]);
  const shutdown = new AbortController();

  let worker: Worker<ListingJobData> | undefined;
  if (options.listingWorker !== false) {
    const processor = createListingProcessor({
      drive,
      pacer,
      metadata,
      log,
      concurrency: config.LISTING_CONCURRENCY,
      keyPrefix: config.STORAGE_KEY_PREFIX,
      chunkSize: config.LISTING_CHUNK_SIZE,
      shutdown: shutdown.signal,
    });
    worker = new Worker<ListingJobData>(QUEUES.listing, processor, {
      connection,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.LISTING_JOB_CONCURRENCY,
      // A dead process's listing is taken over once its lock lapsed and a stalled check ran.
      lockDuration: config.LISTING_LOCK_DURATION_MS,
      stalledInterval: config.LISTING_STALLED_INTERVAL_MS,
    });
    worker.on('failed', (job, err) => log.warn({ job_id: job?.data.job_id, attempts: job?.attemptsMade, err: err.message }, 'listing attempt failed'));
    worker.on('error', (err) => log.error({ err }, 'listing worker error'));
  }

  const app = createImportApp({
    log,
    internalToken: config.INTERNAL_TOKEN,
    drive,
    pacer,
    metadata,
    listingQueue,
    defaultDestination: config.STORAGE_PROVIDER,
    destinations: configuredDestinations(config),
    batchSize: config.BATCH_SIZE,
    thumbnails: config.THUMBNAILS,
    driveRootUrl: config.DRIVE_API_ROOT_URL,
    metrics,
  });
  let server: Awaited<ReturnType<typeof serveApp>> | undefined;
  try {
    server = await serveApp(app, { port: options.port ?? config.IMPORT_SERVICE_PORT, hostname: options.host ?? config.IMPORT_SERVICE_HOST });
    await listingQueue.waitUntilReady();
    await worker?.waitUntilReady();
  } catch (err) {
    // e.g. the port is taken: leave no worker or Redis connection behind.
    await Promise.allSettled([worker?.close(), server?.close(), closeQueue(listingQueue), closeQueue(copyQueue), pacer.close()]);
    throw err;
  }
  const http = server;
  log.info({ url: http.url, prefix: config.QUEUE_PREFIX, listing_concurrency: config.LISTING_CONCURRENCY }, 'import-service started');

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Stop taking listings; an active walk that outlasts the grace is aborted and retried elsewhere.
    const grace = setTimeout(() => shutdown.abort(new Error('import-service shutting down')), config.LISTING_SHUTDOWN_GRACE_MS);
    try {
      await worker?.close();
    } finally {
      clearTimeout(grace);
    }
    await http.close();
    await Promise.allSettled([closeQueue(listingQueue), closeQueue(copyQueue), pacer.close()]);
    log.info('import-service stopped');
  };
  return { url: http.url, port: http.port, close: () => (closing ??= close()) };
}
