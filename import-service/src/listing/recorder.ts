/**
 * One per listing job: sends listed files to the metadata-service in chunks, ONE request at a time
 * (chunks of one job never race, so batch filling stays simple and ordered). The metadata-service
 * seals and enqueues the copy batches; the listing only learns the counts.
 */
import { AddFilesResponse, isUnavailable, type ListedFile, type Logger, type ServiceClient } from '@drive-import/common';
import { retryWithBackoff } from '@drive-import/drive';

export interface RecorderOptions {
  jobId: string;
  metadata: ServiceClient;
  log: Logger;
  /** Files per POST /jobs/:id/files (default 1,000 here, LISTING_CHUNK_SIZE in the service; the contract allows 5,000). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** Tries per metadata call: a short metadata-service restart should not restart the whole walk. */
const METADATA_ATTEMPTS = 5;

export interface Recorder {
  /**
   * Buffer files (any number); full chunks are sent in order. Resolves when the chunks these files
   * completed are recorded, so a caller that awaits it never runs more than a chunk ahead.
   */
  add(files: readonly ListedFile[]): Promise<void>;
  /** Send what is left in the buffer and wait for every chunk. */
  flush(): Promise<void>;
  readonly stats: { chunks: number; inserted: number; skippedUnchanged: number; batchesSealed: number };
}

export function createRecorder(options: RecorderOptions): Recorder {
  const chunkSize = options.chunkSize ?? 1000;
  let buffer: ListedFile[] = [];
  let chain: Promise<void> = Promise.resolve();
  const stats = { chunks: 0, inserted: 0, skippedUnchanged: 0, batchesSealed: 0 };

  const send = async (chunk: ListedFile[]) => {
    const res = await withRetries(options, 'POST files', () =>
      options.metadata.call('POST', `/jobs/${options.jobId}/files`, { body: { files: chunk }, schema: AddFilesResponse }),
    );
    stats.chunks++;
    stats.inserted += res.inserted;
    stats.skippedUnchanged += res.skipped_unchanged;
    stats.batchesSealed += res.batches_sealed;
    options.log.debug({ files: chunk.length, inserted: res.inserted, sealed: res.batches_sealed }, 'files recorded');
  };

  // Each chunk waits for the one before it; a failure makes every later chunk fail too (the job retries).
  const queueChunk = (chunk: ListedFile[]) => (chain = chain.then(() => send(chunk)));

  return {
    stats,
    add(files) {
      let last: Promise<void> = Promise.resolve();
      // One file at a time, never push(...files): a folder can hold more files than a call takes arguments.
      for (const file of files) {
        buffer.push(file);
        if (buffer.length >= chunkSize) {
          last = queueChunk(buffer);
          buffer = [];
        }
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

/** Retry a metadata call while the service is unreachable or answers 5xx; 4xx errors are final. */
export function withRetries<T>(options: { log: Logger; signal?: AbortSignal }, what: string, fn: () => Promise<T>): Promise<T> {
  return retryWithBackoff(fn, {
    attempts: METADATA_ATTEMPTS,
    baseMs: 500,
    maxMs: 8000,
    signal: options.signal,
    shouldRetry: isUnavailable,
    onRetry: (err, attempt, delay) =>
      options.log.warn({ what, attempt, err: (err as Error).message, delay_ms: Math.round(delay) }, 'metadata-service call failed, retrying'),
  });
}
