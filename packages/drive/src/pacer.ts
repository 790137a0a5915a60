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
}

export interface DrivePacer {
  /** Resolves when one Drive request may be sent; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Pause every replica for ms (Drive answered a rate limit); resolves once recorded in Redis. */
  backoff(ms: number): Promise<void>;
  close(): Promise<void>;
}

// KEYS[1] = tat key. ARGV: interval ms, burst tolerance ms, horizon ms.
// Returns ms to wait (>= 0) when a slot was reserved, or -(ms) to wait before asking again.
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
local next = tat + interval
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
  drivePacerAcquire(key: string, interval: number, tau: number, horizon: number): Promise<number>;
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

  return {
    async acquire(signal) {
      let stale = 0;
      for (;;) {
        signal?.throwIfAborted();
        const asked = performance.now();
        const wait = await redis.drivePacerAcquire(key, interval, tau, horizon);
        if (wait >= 0) {
          if (wait > 0) await sleep(wait, signal);
          // A stalled event loop would send several old slots at once (a burst Drive counts against
          // us): when we wake far too late, give the slot up and take a fresh one, once.
          if (performance.now() - asked - wait > LATE_MS && stale++ === 0) continue;
          return;
        }
        // Too far ahead to reserve (a long pause or a big queue): come back later, with jitter so
        // replicas do not all ask at the same instant.
        await sleep(-wait + Math.random() * Math.min(50, -wait), signal);
      }
    },
    async backoff(ms) {
      if (ms > 0) await redis.drivePacerBackoff(key, Math.ceil(ms));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
