/**
 * Drive pacing shared by every worker and import-service replica, through Redis.
 *
 * GCRA ("generic cell rate algorithm"): one key holds the theoretical arrival time (TAT) of the next
 * request. Each acquire reserves the next free slot in ONE Lua call and sleeps until it. Slots are
 * spaced 1/R s apart, so there is no burst of 2R at window edges; a small burst allowance lets an
 * idle system start at once. backoff(ms) pushes the TAT past now + ms, so every replica pauses.
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
  /** Requests allowed at once after an idle spell (default R/20, at least 1). */
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
  const interval = 1000 / options.maxPerSecond;
  const burst = Math.max(1, options.burst ?? Math.floor(options.maxPerSecond / 20));
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

  /** One round trip: slotsPerCall more slots, or (when the horizon is full) a wait before asking again. */
  async function reserve(signal?: AbortSignal): Promise<void> {
    const asked = performance.now();
    const wait = await redis.drivePacerAcquire(key, interval, tau, horizon, slotsPerCall);
    if (wait >= 0) {
      for (let i = 0; i < slotsPerCall; i++) reserved.push(asked + wait + i * interval);
      return;
    }
    // Too far ahead to reserve (a long pause or a big queue): come back later, with jitter so
    // replicas do not all ask at the same instant.
    await sleep(-wait + Math.random() * Math.min(50, -wait), signal);
  }

  return {
    async acquire(signal) {
      let stale = 0;
      for (;;) {
        signal?.throwIfAborted();
        const at = reserved.shift();
        if (at === undefined) {
          // Callers arriving while a round trip is out wait for it rather than sending their own.
          reserving ??= reserve(signal).finally(() => {
            reserving = null;
          });
          await reserving;
          continue;
        }
        // A stalled event loop would send several old slots at once (a burst Drive counts against
        // us): a slot far in the past is given up, and one woken far too late is too (once).
        if (performance.now() - at > LATE_MS && stale++ === 0) continue;
        const wait = at - performance.now();
        if (wait > 0) {
          await sleep(wait, signal);
          if (performance.now() - at > LATE_MS && stale++ === 0) continue;
        }
        return;
      }
    },
    async backoff(ms) {
      if (ms <= 0) return;
      reserved = []; // slots taken before the pause must not be spent during it
      await redis.drivePacerBackoff(key, Math.ceil(ms));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
