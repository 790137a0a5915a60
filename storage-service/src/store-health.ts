/**
 * The store health probe on a timer. driver.check() writes and deletes a probe object, so it never
 * runs because someone called /health: it runs at start and then every STORAGE_HEALTH_INTERVAL_MS,
 * and /health reports the last answer ('ok' or the reason), whatever the traffic.
 */
import { redactSecrets } from '@drive-import/storage';

export interface StoreHealth {
  /** The last probe's answer; until the first probe ends, that first probe's (never a new probe). */
  current(): Promise<string>;
  stop(): void;
}

export interface StoreHealthOptions {
  /** Between probes, in ms (STORAGE_HEALTH_INTERVAL_MS; default 30 s). */
  intervalMs?: number;
  /** A probe still running after this is reported as timed out (default 10 s); the next one waits for it to end. */
  timeoutMs?: number;
  /** Strings never to show (the store's secrets; see secretsOf); secret-shaped parameters go in any case. */
  secrets?: readonly string[];
}

export const STORE_HEALTH_INTERVAL_MS = 30_000;
export const STORE_HEALTH_TIMEOUT_MS = 10_000;

export function createStoreHealth(check: () => Promise<void>, options: StoreHealthOptions = {}): StoreHealth {
  const intervalMs = options.intervalMs ?? STORE_HEALTH_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? STORE_HEALTH_TIMEOUT_MS;
  let last: string | null = null;
  let busy = false;

  const probeOnce = async (): Promise<void> => {
    // One probe at a time: a hung store gets no pile of probes.
    if (busy) return;
    busy = true;
    const outcome = check().then(
      () => 'ok',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    void outcome.finally(() => {
      busy = false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`store check timed out after ${timeoutMs} ms`), timeoutMs);
      timer.unref();
    });
    const answer = await Promise.race([outcome, timedOut]);
    clearTimeout(timer);
    last = redactSecrets(answer, options.secrets);
  };

  const first = probeOnce();
  const interval = setInterval(() => void probeOnce(), intervalMs);
  // A timer alone never keeps the process (or a test) alive.
  interval.unref();
  return {
    current: async () => {
      if (last === null) await first;
      return last ?? 'store not checked yet';
    },
    stop: () => clearInterval(interval),
  };
}
