/**
 * The longest wait a server's Retry-After can impose (5 minutes): a hostile or broken server cannot
 * park a worker for days, and no wait comes near Node's timer limit (2^31-1 ms, beyond which a
 * setTimeout fires at once).
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** The longest delay setTimeout honours; anything longer fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The one clamp for every Retry-After-style wait (Drive, the stores, any server): a finite,
 * non-negative whole number of ms, at most MAX_RETRY_AFTER_MS; null when there is none.
 */
export function capRetryAfterMs(ms: number | null | undefined): number | null {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return null;
  return Math.ceil(Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)));
}

/**
 * Exponential backoff with full jitter, as Google advises for Drive (1 s, 2 s, 4 s ... capped) and
 * rclone does (1 s -> 16 s). A server's Retry-After wins when it asks for longer (capped, see capRetryAfterMs).
 */
export function backoffDelay(attempt: number, options: { baseMs?: number; maxMs?: number; retryAfterMs?: number | null } = {}): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 16_000;
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.min(MAX_TIMER_MS, Math.max(jittered, capRetryAfterMs(options.retryAfterMs) ?? 0));
}

const DELTA_SECONDS = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * Retry-After is delta-seconds or an HTTP date; null when absent or unreadable. Capped at
 * MAX_RETRY_AFTER_MS: `Retry-After: 99999999999` or a date in the year 3000 both mean 5 minutes.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  // Digits only: Number() would also take "0x10" or "1e3", and Date.parse("5") is the year 2005.
  if (DELTA_SECONDS.test(value)) return capRetryAfterMs(Number(value) * 1000);
  // An HTTP date names its weekday/month: without a letter it is no date.
  if (!/[A-Za-z]/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : capRetryAfterMs(at - now);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // Clamped: a longer delay would overflow the timer and fire at once.
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RetryOptions {
  /** Total tries, the first one included. */
  attempts: number;
  /** backoffDelay's first wait and cap (default 1 s and 16 s). */
  baseMs?: number;
  maxMs?: number;
  /** Aborting ends the wait and the retries: the signal's reason is thrown instead of the failure. */
  signal?: AbortSignal;
  /** Is this failure worth another try? Default: every failure is. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** The least wait the server asked for (Retry-After), in ms, or null. */
  retryAfterMs?: (err: unknown) => number | null;
  /** Called before each wait (to log it, count it, slow other replicas down); awaited. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => unknown;
}

/**
 * The one retry loop: call `fn(attempt)` until it succeeds, fails with something not worth retrying,
 * or has had `attempts` tries, waiting backoffDelay between tries. Throws the last failure.
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      signal?.throwIfAborted();
      if (attempt >= options.attempts || !(options.shouldRetry?.(err, attempt) ?? true)) throw err;
      const delayMs = backoffDelay(attempt, { baseMs: options.baseMs, maxMs: options.maxMs, retryAfterMs: options.retryAfterMs?.(err) });
      await options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}
