/**
 * One Drive request with the pacing and retry policy every call here shares: wait for the global
 * pacer, retry retryable failures with jittered backoff, and on a rate-limit answer pause every
 * replica (pacer.backoff), not just this one.
 */
import { classifyDriveError, retryWithBackoff, type DriveFailure, type DrivePacer } from '@drive-import/drive';
import type { Logger } from '@drive-import/common';

/** A Drive call that failed for good: either not retryable or out of attempts. */
export class DriveCallError extends Error {
  override name = 'DriveCallError';
  constructor(readonly failure: DriveFailure) {
    super(failure.message);
  }
}

export interface DriveCallOptions {
  pacer: DrivePacer;
  log?: Logger;
  signal?: AbortSignal;
  /** Total tries (default 6). */
  maxAttempts?: number;
  /** First backoff in ms (default 1000, Google's advice). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For log lines. */
  what?: string;
}

export async function driveCall<T>(fn: () => Promise<T>, options: DriveCallOptions): Promise<T> {
  const { pacer, signal } = options;
  return retryWithBackoff(
    async () => {
      await pacer.acquire(signal);
      try {
        return await fn();
      } catch (err) {
        throw new DriveCallError(classifyDriveError(err));
      }
    },
    {
      attempts: options.maxAttempts ?? 6,
      baseMs: options.baseDelayMs,
      maxMs: options.maxDelayMs,
      signal,
      shouldRetry: (err) => err instanceof DriveCallError && err.failure.retryable,
      retryAfterMs: (err) => (err instanceof DriveCallError ? err.failure.retryAfterMs : null),
      onRetry: async (err, attempt, delayMs) => {
        const { failure } = err as DriveCallError;
        options.log?.warn({ what: options.what, attempt, status: failure.status, reason: failure.reason, delay_ms: Math.round(delayMs) }, 'drive call failed, retrying');
        // Best effort: if Redis is unreachable the retry still waits locally.
        if (failure.rateLimited) await pacer.backoff(delayMs).catch(() => {});
      },
    },
  );
}
