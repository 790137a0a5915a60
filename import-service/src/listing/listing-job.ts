/**
 * The listing queue's processor: mark the job `listing`, walk the tree, record files in chunks
 * (the metadata-service seals each full batch and puts it on the copy queue), then mark the listing
 * complete.
 *
 * At-least-once safe: a walk killed half way and run again re-sends files the metadata-service
 * upserts by (job, drive id), and batches are its own, so nothing is duplicated.
 */
import { setMaxListeners } from 'node:events';
import { UnrecoverableError, type Job } from 'bullmq';
import { AppError, clipText, JobSummary, ListingCompleteResponse, ListingJobData, type Logger, type ServiceClient } from '@drive-import/common';
import type { DriveClient, DrivePacer } from '@drive-import/drive';
import { DriveCallError } from '../drive-call.ts';
import { createRecorder, withRetries } from './recorder.ts';
import { walkFolderTree, type WalkStats } from './walk.ts';

export interface ListingDeps {
  drive: DriveClient;
  pacer: DrivePacer;
  metadata: ServiceClient;
  log: Logger;
  /** LISTING_CONCURRENCY: Drive calls in flight per listing job. */
  concurrency: number;
  /** STORAGE_KEY_PREFIX */
  keyPrefix: string;
  /** Files per POST /jobs/:id/files. */
  chunkSize?: number;
  /** Aborted when the process shuts down and active walks must stop (the job is retried later). */
  shutdown?: AbortSignal;
}

export interface ListingResult {
  status: 'listed' | 'not_listing';
  files?: number;
  folders?: number;
  /** Copy batches the metadata-service sealed for this listing. */
  batches?: number;
  stats?: WalkStats;
}

export function createListingProcessor(deps: ListingDeps) {
  return async function processListing(job: Job<ListingJobData>): Promise<ListingResult> {
    const data = ListingJobData.parse(job.data);
    const attempt = job.attemptsMade + 1;
    const log = deps.log.child({ job_id: data.job_id, attempt });
    const walkAbort = new AbortController();
    const signal = deps.shutdown ? AbortSignal.any([walkAbort.signal, deps.shutdown]) : walkAbort.signal;
    // Every in-flight Drive call, sleep and metadata call listens on it: far more than Node's default 10.
    setMaxListeners(0, signal);
    const started = performance.now();
    try {
      const summary = await withRetries({ log, signal }, 'PATCH listing', () =>
        deps.metadata.call('PATCH', `/jobs/${data.job_id}`, { body: { status: 'listing' }, schema: JobSummary }),
      );
      if (summary.listing_complete) {
        // A redelivery after the listing was recorded (e.g. the process died before BullMQ heard): no walk.
        log.info('listing was already complete');
        return { status: 'listed', files: summary.total };
      }
      log.info({ folder_id: data.folder_id }, 'listing started');

      const recorder = createRecorder({ jobId: data.job_id, metadata: deps.metadata, log, chunkSize: deps.chunkSize, signal });
      const stats = await walkFolderTree({
        drive: deps.drive,
        pacer: deps.pacer,
        log,
        concurrency: deps.concurrency,
        rootFolderId: data.folder_id,
        resourceKey: data.resource_key,
        keyPrefix: deps.keyPrefix,
        onFiles: (files) => recorder.add(files),
        signal,
      });
      await recorder.flush();

      const done = await completeListing(deps, data.job_id, log, signal);
      const batches = recorder.stats.batchesSealed + done.batches_sealed;
      const seconds = (performance.now() - started) / 1000;
      log.info(
        {
          files: stats.files,
          folders: stats.folders,
          drive_calls: stats.driveCalls,
          skipped: stats.skipped,
          batches,
          skipped_unchanged: recorder.stats.skippedUnchanged,
          seconds: Math.round(seconds * 100) / 100,
          files_per_second: Math.round(stats.files / Math.max(seconds, 0.001)),
        },
        'listing complete',
      );
      return { status: 'listed', files: stats.files, folders: stats.folders, batches, stats };
    } catch (err) {
      walkAbort.abort(err); // stop the rest of the walk: sibling folders and queued chunks
      if (deps.shutdown?.aborted) throw err; // released on shutdown: retried, not a failure of the job
      // 409 job_finished / 404: the job was cancelled or removed (before or during the walk): nothing to do.
      if (err instanceof AppError && (err.status === 409 || err.status === 404) && err.code !== 'listing_complete') {
        log.info({ reason: err.message }, 'job no longer wants a listing; stopped');
        return { status: 'not_listing' };
      }
      const retryable = isRetryable(err);
      const lastAttempt = attempt >= (job.opts.attempts ?? 1);
      const message = describe(err);
      if (!retryable || lastAttempt) {
        log.error({ err: message, retryable }, 'listing failed for good');
        await deps.metadata
          .call('PATCH', `/jobs/${data.job_id}`, { body: { status: 'failed', error: clipText(`Listing the folder failed: ${message}`) } })
          .catch((e: unknown) => log.error({ err: (e as Error).message }, 'could not mark the job failed'));
        throw new UnrecoverableError(message);
      }
      log.warn({ err: message }, 'listing attempt failed, will retry');
      throw err;
    }
  };
}

function completeListing(deps: ListingDeps, jobId: string, log: Logger, signal: AbortSignal) {
  return withRetries({ log, signal }, 'POST listing-complete', () =>
    deps.metadata.call('POST', `/jobs/${jobId}/listing-complete`, { schema: ListingCompleteResponse }),
  );
}

/** Drive trouble that outlasted the in-call retries, a metadata-service that is down, Redis hiccups: try again later. */
function isRetryable(err: unknown): boolean {
  if (err instanceof DriveCallError) return err.failure.retryable;
  if (err instanceof AppError) return err.status >= 500;
  return true;
}

function describe(err: unknown): string {
  if (err instanceof DriveCallError) {
    const f = err.failure;
    if (f.status === 404) return `the folder is no longer in Drive or no longer shared (${f.message})`;
    if (f.status === 401 || f.status === 403) return `the folder can no longer be read with these credentials (${f.message})`;
    return f.message;
  }
  return err instanceof Error ? err.message : String(err);
}
