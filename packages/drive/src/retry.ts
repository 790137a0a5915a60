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
