/**
 * Exponential backoff with full jitter, as Google advises for Drive (1 s, 2 s, 4 s ... capped) and
 * rclone does (1 s -> 16 s). A server's Retry-After wins when it asks for longer.
 */
export function backoffDelay(attempt: number, options: { baseMs?: number; maxMs?: number; retryAfterMs?: number | null } = {}): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 16_000;
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.max(jittered, options.retryAfterMs ?? 0);
}

/** Retry-After is seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
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
