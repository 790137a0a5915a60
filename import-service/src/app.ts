/** The import-service's HTTP API: POST /imports (link -> checked folder -> job -> listing queued -> 202) and GET /health. */
import type { Queue } from 'bullmq';
import {
  AppError,
  clipText,
  isUnavailable,
  StartImportRequest,
  JobSummary,
  LISTING_JOB_OPTIONS,
  createServiceApp,
  createServiceMetrics,
  health,
  listingJobId,
  mountMetrics,
  validate,
  type CreateImportResponse,
  type CreateJobRequest,
  type Destination,
  type ListingJobData,
  type Logger,
  type ServiceClient,
  type ServiceMetrics,
  type UpdateJobRequest,
} from '@drive-import/common';
import { type DriveClient, type DrivePacer, retryWithBackoff } from '@drive-import/drive';
import { parseFolderUrl } from './drive-url.ts';
import { checkFolder } from './folder-check.ts';

export interface ImportAppDeps {
  log: Logger;
  drive: DriveClient;
  pacer: DrivePacer;
  metadata: ServiceClient;
  listingQueue: Queue<ListingJobData>;
  /** STORAGE_PROVIDER: used when the request names no destination. */
  defaultDestination: Destination;
  /** configuredDestinations(config): the stores this deployment can write to. */
  destinations: readonly Destination[];
  /** BATCH_SIZE: files per copy batch. */
  batchSize: number;
  /** THUMBNAILS: whether an import that does not say gets thumbnails (default false). */
  thumbnails?: boolean;
  /** DRIVE_API_ROOT_URL: /health checks that it answers at all. Omit to skip that check. */
  driveRootUrl?: string;
  /** Default: a fresh registry with the HTTP and process metrics only (startImportService adds queues and Drive). */
  metrics?: ServiceMetrics;
  /** INTERNAL_TOKEN (see createServiceApp). */
  internalToken?: string;
}

export function createImportApp(deps: ImportAppDeps) {
  const app = createServiceApp(deps.log, { internalToken: deps.internalToken });
  mountMetrics(app, deps.metrics ?? createServiceMetrics('import-service'));

  app.post('/imports', validate('json', StartImportRequest), async (c) => {
    const body = c.req.valid('json');
    const requestId = c.get('requestId');
    const { folderId, resourceKey } = parseFolderUrl(body.folder_url);
    const destination = body.destination ?? deps.defaultDestination;
    if (!deps.destinations.includes(destination)) {
      throw new AppError(400, 'destination_not_configured', `Destination "${destination}" is not configured here; configured: ${deps.destinations.join(', ')}.`);
    }
    const folder = await checkFolder({ drive: deps.drive, pacer: deps.pacer, log: c.var.log }, folderId, resourceKey);

    const request: CreateJobRequest = {
      folder_id: folder.folderId,
      folder_name: folder.name?.slice(0, 1024) ?? null,
      resource_key: folder.resourceKey,
      destination,
      batch_size: deps.batchSize,
      owner: body.owner,
      callback_url: body.callback_url ?? null,
      thumbnails: body.thumbnails ?? deps.thumbnails ?? false,
    };
    const job = await deps.metadata.call('POST', '/jobs', { body: request, schema: JobSummary, requestId, timeoutMs: 10_000 });
    const log = c.var.log.child({ job_id: job.job_id });

    const data: ListingJobData = { job_id: job.job_id, folder_id: folder.folderId, resource_key: folder.resourceKey, destination };
    try {
      await deps.listingQueue.add('list', data, { ...LISTING_JOB_OPTIONS, jobId: listingJobId(job.job_id) });
    } catch (err) {
      // Without its listing job the job would sit `queued` forever: fail it with the reason (cut to
      // what the metadata-service accepts, or the PATCH itself is refused), then fail the request.
      const reason = err instanceof Error ? err.message : String(err);
      log.error({ err: clipText(reason, 1000) }, 'could not enqueue the listing job');
      const failed: UpdateJobRequest = { status: 'failed', error: clipText(`Could not queue the listing: ${reason}`) };
      await retryWithBackoff(() => deps.metadata.call('PATCH', `/jobs/${job.job_id}`, { body: failed, requestId, timeoutMs: 5_000 }), {
        attempts: 3,
        baseMs: 250,
        maxMs: 1000,
        shouldRetry: isUnavailable,
      }).catch((e: unknown) => log.error({ err: e instanceof Error ? e.message : String(e) }, 'could not mark the job failed; it stays queued'));
      throw new AppError(503, 'queue_unavailable', `The job queue is unavailable (${clipText(reason, 500)}); try again shortly.`);
    }
    log.info({ folder_id: folder.folderId, destination }, 'import queued');

    const response: CreateImportResponse = {
      job_id: job.job_id,
      status: 'queued',
      message: `Import queued: listing folder ${folder.name ?? folder.folderId}`,
      total_images: null,
      status_url: `/api/import/status/${job.job_id}`,
    };
    return c.json(response, 202);
  });

  // The web page's destination choice: what this deployment can write to.
  app.get('/destinations', (c) => c.json({ default: deps.defaultDestination, destinations: deps.destinations }));

  app.get('/health', (c) => {
    const checks: Record<string, () => Promise<unknown>> = {
      redis: async () => ((await deps.listingQueue.client) as unknown as { ping(): Promise<string> }).ping(),
      'metadata-service': () => deps.metadata.call('GET', '/health', { timeoutMs: 1500 }),
    };
    const root = deps.driveRootUrl;
    // Any HTTP answer means Drive is reachable; credentials are checked per folder at POST time.
    if (root) {
      checks.drive = () =>
        fetch(root, { method: 'HEAD', signal: AbortSignal.timeout(1500) }).then(
          (r) => r.body?.cancel(),
          (err: Error) => {
            throw new Error(`${root} is unreachable: ${(err.cause as Error | undefined)?.message ?? err.message}`);
          },
        );
    }
    return health(c, 'import-service', checks);
  });

  return app;
}
