/**
 * Drive pacing shared by every worker and import-service replica, through Redis.
 *
 * GCRA ("generic cell rate algorithm"): one key holds the theoretical arrival time (TAT) of the next
 * request. One Lua call reserves the next free slots (one, or at high rates up to 50 ms of them,
 * handed out locally) and each caller sleeps until its own. Slots are spaced 1/R s apart, so no
 * window ever holds more than R (Drive's quota windows answer 429 past it, and a 429 pauses
 * everyone). backoff(ms) pushes the TAT past now + ms, so every replica pauses.
 * Clocks come from Redis TIME, so replicas with skewed clocks still agree.
 */
import { Redis } from 'ioredis';
import { sleep } from './retry.ts';

export interface DrivePacerOptions {
  redisUrl: string;
  /** Namespace, e.g. QUEUE_PREFIX: replicas of one deployment share it. */
  prefix: string;
  /** DRIVE_MAX_REQUESTS_PER_SECOND, in total across all replicas. */
  maxPerSecond: number;
  /**
   * Requests allowed at once after an idle spell (default 1: none). Drive and the emulator count
   * requests per window, so a burst on top of the full rate is answered 429, and a 429 pauses everyone.
   */
  burst?: number;
  /** Reserve slots at most this far ahead; beyond it, wait and ask again (default 500 ms; bounds what slips out after a backoff). */
  horizonMs?: number;
  /**
   * Slots reserved per Redis round trip, handed out locally (default: 50 ms worth of the rate, 1 to
   * 32). At a high rate one call per request would make Redis the pace; at a low rate it stays 1.
   */
  slotsPerCall?: number;
}

export interface DrivePacer {
  /** Resolves when one Drive request may be sent; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Pause every replica for ms (Drive answered a rate limit); resolves once recorded in Redis. */
  backoff(ms: number): Promise<void>;
  /** Redis round trips made so far (for metrics and tests). */
  readonly roundTrips: number;
  close(): Promise<void>;
}

// KEYS[1] = tat key. ARGV: interval ms, burst tolerance ms, horizon ms, slots n.
// Returns ms to wait (>= 0) until the first of n consecutive slots (interval apart) it reserved, or
// -(ms) to wait before asking again.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tau - now
if wait < 0 then wait = 0 end
if wait > horizon then return -math.ceil(wait - horizon) end
local next = tat + interval * tonumber(ARGV[4])
redis.call('SET', KEYS[1], tostring(next), 'PX', math.ceil(next - now) + 1000)
return math.ceil(wait)
`;

// KEYS[1] = tat key. ARGV[1] = pause ms. The TAT only ever moves forward.
const BACKOFF = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(until_ - now) + 1000)
end
return 0
`;

/** How late a reserved slot may be used before it counts as stale. */
const LATE_MS = 50;

type PacerRedis = Redis & {
  drivePacerAcquire(key: string, interval: number, tau: number, horizon: number, slots: number): Promise<number>;
  drivePacerBackoff(key: string, ms: number): Promise<number>;
};

export function createDrivePacer(options: DrivePacerOptions): DrivePacer {
  if (!(options.maxPerSecond > 0)) throw new Error('maxPerSecond must be > 0');
  // A slot may be used up to LATE_MS after its time, so a 1 s window can see the sends of 1 s + LATE_MS
  // of slots: spacing them for that keeps every window at or under maxPerSecond (at 200/s: 190/s).
  const interval = (1000 + LATE_MS) / options.maxPerSecond;
  const burst = Math.max(1, options.burst ?? 1);
  const tau = (burst - 1) * interval;
  const horizon = options.horizonMs ?? 500;
  const key = `${options.prefix}:drive-pacer:tat`;

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true }) as PacerRedis;
  redis.on('error', () => {}); // ioredis reconnects by itself; failed calls reject and callers retry
  redis.defineCommand('drivePacerAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('drivePacerBackoff', { numberOfKeys: 1, lua: BACKOFF });

  const slotsPerCall = Math.max(1, Math.min(32, Math.floor(options.slotsPerCall ?? options.maxPerSecond / 20)));
  /** Reserved slots not yet used, as performance.now() times, soonest first; each is used by one request. */
  let reserved: number[] = [];
  let reserving: Promise<void> | null = null;
  /** Callers waiting for a slot they have not got yet. */
  let hungry = 0;
  /** Slots used since the last round trip, and when it was: the demand the next one reserves for. */
  let used = 0;
  let lastReserve = performance.now();
  let roundTrips = 0;

  /**
   * One round trip: slots for those waiting, or for the demand of the next LATE_MS if that is more
   * (up to slotsPerCall: at 500 files/s one call per ~25 requests, not one per request), or
   * (horizon full) a wait before asking again. Reserving past the demand would give slots up unused.
   */
  async function reserve(): Promise<void> {
    const asked = performance.now();
    const demand = Math.floor((used * LATE_MS) / Math.max(1, asked - lastReserve));
    used = 0;
    lastReserve = asked;
    roundTrips++;
    const n = Math.max(1, Math.min(slotsPerCall, Math.max(hungry - reserved.length, demand)));
    const wait = await redis.drivePacerAcquire(key, interval, tau, horizon, n);
    if (wait >= 0) {
      for (let i = 0; i < n; i++) reserved.push(asked + wait + i * interval);
      return;
    }
    // Too far ahead to reserve (a long pause or a big queue): come back later, with jitter so
    // replicas do not all ask at the same instant.
    await sleep(-wait + Math.random() * Math.min(50, -wait));
  }

  /** The shared round trip, left early (with the caller's own abort reason) when the caller's signal aborts. */
  function awaitReserve(signal?: AbortSignal): Promise<void> {
    reserving ??= reserve().finally(() => {
      reserving = null;
    });
    if (!signal) return reserving;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      reserving!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  return {
    async acquire(signal) {
      let stale = 0;
      hungry++;
      try {
        for (;;) {
          signal?.throwIfAborted();
          const at = reserved.shift();
          if (at === undefined) {
            // Callers arriving while a round trip is out wait for it rather than sending their own.
            await awaitReserve(signal);
            continue;
          }
          // Sending at a slot's time, not later, is what keeps the rate: a slot nobody took in time is
          // given up (sent now it would add to a burst Drive counts against us), and so is one this
          // caller woke up far too late for (once: a stalled event loop must not starve it).
          if (performance.now() - at > LATE_MS) continue;
          const wait = at - performance.now();
          if (wait > 0) {
            hungry--;
            try {
              await sleep(wait, signal);
            } finally {
              hungry++;
            }
            if (performance.now() - at > LATE_MS && stale++ === 0) continue;
          }
          used++;
          return;
        }
      } finally {
        hungry--;
      }
    },
    async backoff(ms) {
      if (ms <= 0) return;
      reserved = []; // slots taken before the pause must not be spent during it
      await redis.drivePacerBackoff(key, Math.ceil(ms));
    },
    get roundTrips() {
      return roundTrips;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
