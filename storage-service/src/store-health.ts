/**
 * The store health probe on a timer. driver.check() writes and deletes a probe object, so it never
 * runs because someone called /health: it runs at start and then every STORAGE_HEALTH_INTERVAL_MS,
 * and /health reports the last answer ('ok' or the reason), whatever the traffic.
 *
 * Until a probe has succeeded once, a failed or timed-out probe is retried soon (250 ms, doubling,
 * at most 5 s) rather than after the interval: a store that is not ready at start (a bucket being
 * made, a server still starting) shows healthy within a second or two, not 30 s later. A probe that
 * outlives its timeout is left to end by itself and no longer holds the next one back (the S3
 * client's own request timeout is 2 minutes), but at most MAX_HUNG_PROBES are left hanging at once.
 */
import { redactSecrets } from '@drive-import/storage';

export interface StoreHealth {
  /** The last probe's answer; until the first probe ends, that first probe's (never a new probe). */
  current(): Promise<string>;
  stop(): void;
}

export interface StoreHealthOptions {
  /** Between probes once one has succeeded, in ms (STORAGE_HEALTH_INTERVAL_MS; default 30 s). */
  intervalMs?: number;
  /** A probe still running after this is reported as timed out (default 10 s). */
  timeoutMs?: number;
  /** Until the first success: the wait before the first retry, doubling up to firstRetryMaxMs (defaults 250 ms, 5 s; never above intervalMs). */
  firstRetryMs?: number;
  firstRetryMaxMs?: number;
  /** Strings never to show (the store's secrets; see secretsOf); secret-shaped parameters go in any case. */
  secrets?: readonly string[];
}

export const STORE_HEALTH_INTERVAL_MS = 30_000;
export const STORE_HEALTH_TIMEOUT_MS = 10_000;
export const STORE_HEALTH_FIRST_RETRY_MS = 250;
export const STORE_HEALTH_FIRST_RETRY_MAX_MS = 5_000;
/** Timed-out probes still waiting on the store; while this many hang, no new probe starts. */
export const MAX_HUNG_PROBES = 2;

export function createStoreHealth(check: () => Promise<void>, options: StoreHealthOptions = {}): StoreHealth {
  const intervalMs = options.intervalMs ?? STORE_HEALTH_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? STORE_HEALTH_TIMEOUT_MS;
  const firstRetryMs = options.firstRetryMs ?? STORE_HEALTH_FIRST_RETRY_MS;
  const firstRetryMaxMs = options.firstRetryMaxMs ?? STORE_HEALTH_FIRST_RETRY_MAX_MS;
  let last: string | null = null;
  let succeeded = false; // a probe has answered ok since start
  let failuresBeforeSuccess = 0;
  let hung = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** One probe: its answer within timeoutMs, or the timeout (the check then goes on by itself, counted in `hung`). */
  const probeOnce = async (): Promise<void> => {
    const outcome = Promise.resolve()
      .then(check)
      .then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      deadline = setTimeout(() => resolve(null), timeoutMs);
      deadline.unref();
    });
    const answer = await Promise.race([outcome, timedOut]);
    clearTimeout(deadline);
    if (answer === null) {
      hung++;
      void outcome.finally(() => {
        hung--;
      });
    }
    last = redactSecrets(answer ?? `store check timed out after ${timeoutMs} ms`, options.secrets);
    if (answer === 'ok') succeeded = true;
    else if (!succeeded) failuresBeforeSuccess++;
  };

  const nextDelay = () =>
    succeeded ? intervalMs : Math.min(intervalMs, firstRetryMaxMs, firstRetryMs * 2 ** Math.max(0, failuresBeforeSuccess - 1));

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      // A store that hangs gets no pile of probes: wait for one of them to end.
      const probe = hung >= MAX_HUNG_PROBES ? Promise.resolve() : probeOnce();
      void probe.then(schedule);
    }, nextDelay());
    // A timer alone never keeps the process (or a test) alive.
    timer.unref();
  };

  const first = probeOnce();
  void first.then(schedule);
  return {
    current: async () => {
      if (last === null) await first;
      return last ?? 'store not checked yet';
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
