/**
 * One per listing job: sends listed files to the metadata-service in chunks, ONE request at a time
 * (chunks of one job never race, so batch filling stays simple and ordered), and enqueues each copy
 * batch the metadata-service seals, as soon as it is sealed.
 */
import type { Queue } from 'bullmq';
import { AddFilesResponse, COPY_JOB_OPTIONS, isUnavailable, type CopyBatch, type ListedFile, type Logger, type ServiceClient } from '@drive-import/common';
import { backoffDelay, sleep } from '@drive-import/drive';

export interface RecorderOptions {
  jobId: string;
  metadata: ServiceClient;
  copyQueue: Queue;
  log: Logger;
  /** Files per POST /jobs/:id/files (default 1,000; the contract allows 5,000). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** Tries per metadata call: a short metadata-service restart should not restart the whole walk. */
const METADATA_ATTEMPTS = 5;

export interface Recorder {
  /** Buffer files; full chunks are sent in order. Resolves when the chunks these files completed are recorded. */
  add(files: ListedFile[]): Promise<void>;
  /** Send what is left in the buffer and wait for every chunk. */
  flush(): Promise<void>;
  readonly stats: { chunks: number; inserted: number; skippedUnchanged: number; batchesEnqueued: number };
  /** Batches enqueued but not yet reported to the metadata-service (sent with the next call). */
  readonly unreported: readonly string[];
}

export function createRecorder(options: RecorderOptions): Recorder {
  const chunkSize = options.chunkSize ?? 1000;
  let buffer: ListedFile[] = [];
  let chain: Promise<void> = Promise.resolve();
  const stats = { chunks: 0, inserted: 0, skippedUnchanged: 0, batchesEnqueued: 0 };
  // Reported with the next call, so listing-complete returns only batches that may have been missed.
  let unreported: string[] = [];

  const send = async (chunk: ListedFile[]) => {
    const reporting = unreported;
    const res = await withRetries(options, 'POST files', () =>
      options.metadata.call('POST', `/jobs/${options.jobId}/files`, {
        body: { files: chunk, enqueued_batch_ids: reporting },
        schema: AddFilesResponse,
      }),
    );
    unreported = unreported.filter((id) => !reporting.includes(id));
    stats.chunks++;
    stats.inserted += res.inserted;
    stats.skippedUnchanged += res.skipped_unchanged;
    await enqueueBatches(options.copyQueue, res.sealed_batches);
    unreported.push(...res.sealed_batches.map((b) => b.batch_id));
    stats.batchesEnqueued += res.sealed_batches.length;
    options.log.debug({ files: chunk.length, inserted: res.inserted, sealed: res.sealed_batches.length }, 'files recorded');
  };

  // Each chunk waits for the one before it; a failure makes every later chunk fail too (the job retries).
  const queueChunk = (chunk: ListedFile[]) => (chain = chain.then(() => send(chunk)));

  return {
    stats,
    get unreported() {
      return unreported;
    },
    add(files) {
      buffer.push(...files);
      let last: Promise<void> = Promise.resolve();
      while (buffer.length >= chunkSize) {
        last = queueChunk(buffer.slice(0, chunkSize));
        buffer = buffer.slice(chunkSize);
      }
      // Chunks run in order, so the last one settling means all of them did.
      return last;
    },
    flush() {
      if (buffer.length > 0) {
        queueChunk(buffer);
        buffer = [];
      }
      return chain;
    },
  };
}

/** Copy batches go on the copy queue under their batch id, so enqueueing one twice is a no-op. */
export async function enqueueBatches(copyQueue: Queue, batches: CopyBatch[]): Promise<void> {
  if (batches.length === 0) return;
  await copyQueue.addBulk(batches.map((b) => ({ name: 'copy', data: b, opts: { ...COPY_JOB_OPTIONS, jobId: b.batch_id } })));
}

/** Retry a metadata call while the service is unreachable or answers 5xx; 4xx errors are final. */
export async function withRetries<T>(options: { log: Logger; signal?: AbortSignal }, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (!isUnavailable(err) || attempt >= METADATA_ATTEMPTS) throw err;
      const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 8000 });
      options.log.warn({ what, attempt, err: (err as Error).message, delay_ms: Math.round(delay) }, 'metadata-service call failed, retrying');
      await sleep(delay, options.signal);
    }
  }
}
