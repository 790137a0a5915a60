/**
 * THE HOT PATH: one file, Drive -> store, with retries. Bytes stream straight through; the store
 * driver checks md5 and size in-stream and aborts the upload on a mismatch, so nothing corrupted
 * ever lands under the key.
 */
import { pipeline, type Readable } from 'node:stream';
import { clipText, type CopyFile, type FileResult } from '@drive-import/common';
import { backoffDelay, classifyDriveError, retryWithBackoff, type DrivePacer, type MediaDownloader } from '@drive-import/drive';
import { ChecksumMismatchError, isRetryableStorageError, type StorageDriver } from '@drive-import/storage';
import type { WorkerMetrics } from './metrics.ts';
import { storeThumbnail, ThumbnailTap, type ThumbnailOptions } from './thumbnail.ts';

export interface CopyDeps {
  media: MediaDownloader;
  pacer: DrivePacer;
  metrics: WorkerMetrics;
  maxAttempts: number;
  attemptTimeoutMs: number;
  /**
   * How long a file waits out its store being unavailable (503s, refused or dropped connections)
   * past its maxAttempts, in ms: an outage of the store is not the file's fault (default 5 min).
   */
  storeOutageMs?: number;
  /** Told each stored file's time in flight, pacing excluded (ms): the adaptive limit learns from it. */
  observeFileTime?: (ms: number, pacedMs: number) => void;
  /** Make a WebP thumbnail of each stored file from the bytes as they stream by; null/absent: none. */
  thumbnails?: ThumbnailOptions | null;
}

interface Verdict {
  kind: 'drive' | 'store' | 'checksum';
  retryable: boolean;
  reason: string;
  /** Drive said "too fast": every replica pauses this long. */
  pauseAllMs: number | null;
  retryAfterMs: number | null;
  /** Not the file's fault (the store away, a transfer that hung, Drive's rate limit): waited out past maxAttempts. */
  outage?: boolean;
}

/** One try's failure, judged: thrown out of a try so retryWithBackoff can decide on it. */
class FailedTry extends Error {
  constructor(
    readonly verdict: Verdict,
    readonly attempt: number,
  ) {
    super(verdict.reason);
  }
}

export async function copyFile(
  deps: CopyDeps,
  store: StorageDriver,
  file: CopyFile,
  resourceKey: string | null,
  signal: AbortSignal,
): Promise<FileResult> {
  const started = performance.now();
  const { stages } = deps.metrics;
  const copyOnce = async (attempt: number): Promise<FileResult> => {
    // One controller and one timer per try, both let go when it ends. (AbortSignal.timeout keeps its
    // timer for the whole timeout, and AbortSignal.any registers with the long-lived shutdown signal:
    // at hundreds of files a second both kept memory and GC work alive long after the file.)
    const tryController = new AbortController();
    const attemptSignal = tryController.signal;
    const abortTry = () => tryController.abort(signal.reason);
    signal.addEventListener('abort', abortTry, { once: true });
    const timer = setTimeout(() => tryController.abort(new DOMException(`try timed out after ${deps.attemptTimeoutMs} ms`, 'TimeoutError')), deps.attemptTimeoutMs);
    let body: Readable | undefined;
    let tap: ThumbnailTap | undefined;
    try {
      const asked = performance.now();
      await deps.pacer.acquire(signal);
      const paced = performance.now();
      stages.pacing.inc((paced - asked) / 1000);
      deps.metrics.driveRequests.inc();
      body = await deps.media.download(file.drive_id, { resourceKey, signal: attemptSignal });
      const headersAt = performance.now();
      stages.driveFirstByte.inc((headersAt - paced) / 1000);
      let bodyEnd = 0;
      body.once('end', () => {
        bodyEnd = performance.now();
      });
      const thumbs = deps.thumbnails;
      // The tap only keeps references to the chunks going by; a body error reaches the upload unchanged.
      if (thumbs && (file.size === null || file.size <= thumbs.maxBytes)) tap = pipeline(body, new ThumbnailTap(thumbs.maxBytes), () => {});
      const put = await store.put({ key: file.storage_key, body: tap ?? body, size: file.size, md5: file.md5, contentType: file.mime_type, signal: attemptSignal });
      const putAt = performance.now();
      bodyEnd ||= putAt;
      stages.driveBody.inc((bodyEnd - headersAt) / 1000);
      stages.storeFinish.inc((putAt - bodyEnd) / 1000);
      deps.observeFileTime?.(putAt - paced, paced - asked);
      const thumbnailKey = tap && thumbs ? await storeThumbnail(store, tap, file.storage_key, thumbs, attemptSignal) : null;
      if (tap) deps.metrics.thumbnails.inc({ made: thumbnailKey ? 'yes' : 'no' });
      deps.metrics.files.inc({ status: 'stored' });
      deps.metrics.bytes.inc(put.size);
      deps.metrics.copySeconds.observe((performance.now() - started) / 1000);
      return {
        drive_id: file.drive_id,
        status: 'stored',
        bytes: put.size,
        md5: put.md5,
        etag: put.etag,
        error: null,
        attempts: attempt,
        thumbnail_key: thumbnailKey,
      };
    } catch (err) {
      tap?.release();
      tap?.destroy();
      body?.destroy(); // never leave a Drive response half-read on the socket
      if (signal.aborted) throw signal.reason; // shutting down: the batch is released, the file is not failed
      const verdict: Verdict = attemptSignal.aborted
        ? // Timed out once the transfer had begun: most likely a store holding the upload.
          { kind: 'drive', retryable: true, reason: `try timed out after ${deps.attemptTimeoutMs} ms`, pauseAllMs: null, retryAfterMs: null, outage: body !== undefined }
        : body
          ? storeVerdict(err, store.provider)
          : driveVerdict(err, deps.metrics);
      // Drive said "too fast": every replica slows down, also after the last try.
      if (verdict.pauseAllMs !== null) await deps.pacer.backoff(verdict.pauseAllMs).catch(() => {});
      throw new FailedTry(verdict, attempt);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abortTry);
    }
  };
  const outageUntil = started + (deps.storeOutageMs ?? 300_000);
  // maxAttempts failures of the file's own (a bad answer, a broken body) end it; what is not its fault
  // (verdict.outage: the store away, Drive's rate limit) spends none of them and is waited out until outageUntil.
  let ownFailures = 0;
  try {
    return await retryWithBackoff(copyOnce, {
      attempts: Number.POSITIVE_INFINITY,
      signal,
      shouldRetry: (err, attempt) => {
        if (!(err instanceof FailedTry) || !err.verdict.retryable) return false;
        if (err.verdict.outage) return attempt < deps.maxAttempts || performance.now() < outageUntil;
        return ++ownFailures < deps.maxAttempts;
      },
      retryAfterMs: (err) => (err instanceof FailedTry ? err.verdict.retryAfterMs : null),
      onRetry: (err) => deps.metrics.retries.inc({ kind: (err as FailedTry).verdict.kind }),
    });
  } catch (err) {
    if (!(err instanceof FailedTry)) throw err;
    deps.metrics.files.inc({ status: 'failed' });
    const { verdict, attempt } = err;
    const reason = verdict.retryable ? `gave up after ${attempt} tries: ${verdict.reason}` : verdict.reason;
    return { drive_id: file.drive_id, status: 'failed', bytes: null, md5: null, etag: null, error: clipText(reason), attempts: attempt };
  }
}

/** The download request failed (no body yet). */
function driveVerdict(err: unknown, metrics: WorkerMetrics): Verdict {
  const d = classifyDriveError(err);
  metrics.driveErrors.inc({ status: String(d.status ?? 'network'), reason: d.reason ?? 'unknown' });
  if (d.rateLimited) metrics.rateLimited.inc({ reason: d.reason ?? String(d.status) });
  return {
    kind: 'drive',
    retryable: d.retryable,
    reason: d.message,
    // Without a Retry-After, pause everyone about one base backoff (0.5-1 s).
    pauseAllMs: d.rateLimited ? (d.retryAfterMs ?? backoffDelay(1)) : null,
    retryAfterMs: d.retryAfterMs,
    // "Too fast" is the quota's doing, not the file's: waited out like a store outage.
    outage: d.rateLimited,
  };
}

/** The upload failed: a checksum mismatch, the store, or the Drive body breaking mid-stream. */
function storeVerdict(err: unknown, provider: string): Verdict {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ChecksumMismatchError) {
    return { kind: 'checksum', retryable: true, reason: `downloaded bytes did not match Drive's: ${message}`, pauseAllMs: null, retryAfterMs: null };
  }
  if (isRetryableStorageError(err)) return { kind: 'store', retryable: true, reason: `${provider} store: ${message}`, pauseAllMs: null, retryAfterMs: null, outage: true };
  const d = classifyDriveError(err);
  if (d.status === null && d.reason !== null && d.retryable) {
    return { kind: 'drive', retryable: true, reason: `download broke off: ${d.message}`, pauseAllMs: null, retryAfterMs: null };
  }
  return { kind: 'store', retryable: false, reason: `${provider} store refused the object: ${message}`, pauseAllMs: null, retryAfterMs: null };
}
