/**
 * One Drive request with the pacing and retry policy every call here shares: wait for the global
 * pacer, retry retryable failures with jittered backoff, and on a rate-limit answer pause every
 * replica (pacer.backoff), not just this one.
 */
import { backoffDelay, classifyDriveError, sleep, type DriveFailure, type DrivePacer } from '@drive-import/drive';
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
  const maxAttempts = options.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    await options.pacer.acquire(options.signal);
    try {
      return await fn();
    } catch (err) {
      options.signal?.throwIfAborted();
      const failure = classifyDriveError(err);
      if (!failure.retryable || attempt >= maxAttempts) throw new DriveCallError(failure);
      const delay = backoffDelay(attempt, { baseMs: options.baseDelayMs, maxMs: options.maxDelayMs, retryAfterMs: failure.retryAfterMs });
      options.log?.warn({ what: options.what, attempt, status: failure.status, reason: failure.reason, delay_ms: Math.round(delay) }, 'drive call failed, retrying');
      // Best effort: if Redis is unreachable the retry below still waits locally.
      if (failure.rateLimited) await options.pacer.backoff(delay).catch(() => {});
      await sleep(delay, options.signal);
    }
  }
}
