/**
 * The copy queue's processor: fetch the batch's pending files from the metadata-service (the queue
 * carries only the batch id), copy them (bounded by one process-wide limit), save the results in
 * the BullMQ job, then post them in ONE call. A batch redelivered after the post failed re-posts
 * the saved results and copies nothing again.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CopyBatch, CopyBatchRef, isUnavailable, JobSummary, type CopyFile, type FileResult, type Logger, type ServiceClient } from '@drive-import/common';
import type { StorageDriver, StorageProvider } from '@drive-import/storage';
import type { AdaptiveLimit } from './adaptive-limit.ts';
import { copyFile, type CopyDeps } from './copy-file.ts';
import type { JobEnded } from './job-watch.ts';
import { wantsExifCamera, withCameraTap } from './photo-metadata.ts';
import { thumbnailKey, type ThumbnailOptions } from './thumbnail.ts';

/** The queue payload plus what this worker adds: the finished results, saved before they are posted. */
export type CopyJobData = CopyBatchRef & { results?: FileResult[] };

export interface BatchDeps extends CopyDeps {
  stores: Map<StorageProvider, StorageDriver>;
  /** Process-wide: every batch this process runs shares it. */
  limit: AdaptiveLimit;
  metadata: ServiceClient;
  log: Logger;
  /** Aborted when the process must stop: in-flight batches are put back on the queue. */
  shutdown: AbortSignal;
  /** True once the batch's job has ended (cancelled): its files not yet started are left alone. */
  jobEnded?: JobEnded;
}

/** How soon a batch of a paused job asks again whether it may run. */
export const PAUSED_RECHECK_MS = 3000;

export function createBatchProcessor(deps: BatchDeps) {
  return async (job: Job<CopyJobData>, token?: string): Promise<{ posted: number }> => {
    const parsed = CopyBatchRef.safeParse({ job_id: job.data.job_id, batch_id: job.data.batch_id });
    if (!parsed.success) throw new UnrecoverableError(`not a copy batch: ${parsed.error.message.slice(0, 500)}`);
    const ref = parsed.data;
    const log = deps.log.child({ job_id: ref.job_id, batch_id: ref.batch_id, bullmq_job: job.id });

    let results = job.data.results;
    if (results) {
      log.info({ files: results.length }, 're-posting saved results');
    } else {
      const batch = await metadataCall(log, () => deps.metadata.call('GET', `/batches/${encodeURIComponent(ref.batch_id)}`, { schema: CopyBatch }));
      // Paused: back to wait, without spending an attempt; asked again after PAUSED_RECHECK_MS.
      if (batch.paused) {
        await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
        throw new DelayedError();
      }
      // Done already (a repeated delivery) or its job ended (cancelled, failed): nothing to copy.
      if (batch.files.length === 0) return { posted: 0 };
      const started = performance.now();
      try {
        // Thumbnails only for a job that asked for them (the worker's THUMBNAIL_MAX_BYTES still applies).
        const batchDeps = batch.thumbnails ? deps : { ...deps, thumbnails: null };
        results = await copyAll(batchDeps, batch, job.attemptsMade + job.stalledCounter > 0, log);
      } catch (err) {
        if (!deps.shutdown.aborted) throw err;
        // Stopping: hand the batch back now, without spending one of its attempts.
        log.info('shutting down: batch released to the queue');
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      await job.updateData({ ...job.data, results });
      const failed = results.filter((r) => r.status === 'failed').length;
      log.info({ files: results.length, failed, ms: Math.round(performance.now() - started) }, 'batch copied');
    }

    const posted = results;
    const postStarted = performance.now();
    await metadataCall(log, () =>
      deps.metadata.call('POST', `/batches/${encodeURIComponent(ref.batch_id)}/results`, { body: { job_id: ref.job_id, results: posted }, schema: JobSummary }),
    );
    // Every file of the batch waits for this call before it counts as done.
    deps.metrics.stages.results.inc(((performance.now() - postStarted) / 1000) * posted.length);
    deps.metrics.batches.inc({ how: job.data.results ? 'reposted' : 'copied' });
    return { posted: results.length };
  };
}

/**
 * A metadata-service call of the batch's life. Down or overloaded: BullMQ retries the batch later
 * (saved results are re-posted). A 4xx will not change on retry (e.g. the job was deleted): the
 * batch fails for good.
 */
async function metadataCall<T>(log: Logger, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isUnavailable(err)) {
      log.warn({ err: String(err) }, 'metadata-service unavailable: batch will retry');
      throw err;
    }
    throw new UnrecoverableError(`metadata-service refused the batch: ${String(err)}`);
  }
}

async function copyAll(deps: BatchDeps, batch: CopyBatch, redelivered: boolean, log: Logger): Promise<FileResult[]> {
  const store = deps.stores.get(batch.destination);
  if (!store) {
    log.error({ destination: batch.destination }, 'destination not configured on this worker');
    const error = `storage destination '${batch.destination}' is not configured on this worker`;
    return batch.files.map((f) => ({ drive_id: f.drive_id, status: 'failed', bytes: null, md5: null, etag: null, error, attempts: 0 }));
  }
  const results = await Promise.all(
    batch.files.map((file) =>
      deps.limit.run(memoryWeight(file), async (): Promise<FileResult | null> => {
        deps.shutdown.throwIfAborted();
        // Cancelled meanwhile: take no new file (its row stays pending; what was copied is reported).
        if (await deps.jobEnded?.(batch.job_id)) return null;
        // A batch taken over from a worker that died may already have this file in the store.
        if (redelivered) {
          const found = await alreadyStored(store, file, deps.thumbnails ?? null);
          if (found) {
            deps.metrics.files.inc({ status: 'skipped' });
            return found;
          }
        }
        // Drive gave no camera: read it from the EXIF going by (photo-metadata.ts), no second download.
        const exif = wantsExifCamera(file) ? withCameraTap(store, file) : null;
        const result = await copyFile(deps, exif?.store ?? store, file, batch.resource_key, deps.shutdown);
        if (exif && result.status === 'stored') Object.assign(result, await exif.camera());
        if (result.status === 'failed') log.warn({ drive_id: file.drive_id, attempts: result.attempts, error: result.error }, 'file failed');
        return result;
      }),
    ),
  );
  const done = results.filter((r): r is FileResult => r !== null);
  if (done.length < results.length) log.info({ copied: done.length, left: results.length - done.length }, 'job ended during the batch: the rest left uncopied');
  return done;
}

/** The object already under the key with Drive's md5 and size: a result without downloading again. */
async function alreadyStored(store: StorageDriver, file: CopyFile, thumbnails: ThumbnailOptions | null): Promise<FileResult | null> {
  if (!file.md5) return null;
  const info = await store.head(file.storage_key).catch(() => null);
  if (!info || info.md5 !== file.md5 || (file.size !== null && info.size !== file.size)) return null;
  // Its thumbnail, if the worker that died had stored one too.
  const thumbKey = thumbnails ? thumbnailKey(file.storage_key, thumbnails.keyPrefix) : null;
  const thumb = thumbKey ? await store.head(thumbKey).catch(() => null) : null;
  return { drive_id: file.drive_id, status: 'stored', bytes: info.size, md5: info.md5, etag: info.etag, error: null, attempts: 0, thumbnail_key: thumb ? thumbKey : null };
}

/** What a file may hold in memory while in flight: its size, up to a multipart upload's parts in the air. */
const MAX_FILE_WEIGHT = 16 * 1024 * 1024;
const memoryWeight = (file: CopyFile) => Math.min(file.size ?? MAX_FILE_WEIGHT, MAX_FILE_WEIGHT);
