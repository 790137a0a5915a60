import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deletePrefix, findOrStartRedis, uniqueName, type RedisHandle } from '@drive-import/testing';
import { createDrivePacer, type DrivePacer } from '../src/index.ts';

let redis: RedisHandle;
before(async () => {
  redis = await findOrStartRedis();
});
after(async () => {
  await redis.stop();
});

/** Run `workers` loops on each pacer for `ms`, returning every grant time. */
async function hammer(pacers: DrivePacer[], workers: number, ms: number): Promise<number[]> {
  const grants: number[] = [];
  const stopAt = Date.now() + ms;
  await Promise.all(
    pacers.flatMap((p) =>
      Array.from({ length: workers }, async () => {
        while (Date.now() < stopAt) {
          await p.acquire();
          grants.push(Date.now());
        }
      }),
    ),
  );
  return grants.sort((a, b) => a - b);
}

/** The most grants seen in any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test('two pacers on one prefix share one rate: total grants per second stay at about R', async () => {
  const prefix = uniqueName('pacer');
  const R = 40;
  const a = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: R });
  const b = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: R });
  try {
    const grants = await hammer([a, b], 10, 2500);
    const peak = maxInWindow(grants, 1000);
    // At most R in any second (a quota window answers 429 past it), one or two of slack for timers.
    assert.ok(peak <= R + 2, `peak ${peak} grants in 1 s, limit ${R}`);
    // And the limit is used, not starved: 2.5 s at R/s is ~100 grants.
    assert.ok(grants.length >= R * 2, `only ${grants.length} grants in 2.5 s`);
    // No edge burst: no 100 ms window holds much more than a tenth of R.
    assert.ok(maxInWindow(grants, 100) <= Math.ceil(R / 10) + 3, `burst of ${maxInWindow(grants, 100)} in 100 ms`);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await deletePrefix(redis.url, prefix);
  }
});

test('at a high rate slots come several per Redis call, and the rate still holds', async () => {
  const prefix = uniqueName('pacer');
  const R = 2000; // 32 slots per call
  const a = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: R });
  const b = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: R });
  try {
    const grants = await hammer([a, b], 16, 2000);
    const peak = maxInWindow(grants, 1000);
    assert.ok(peak <= R * 1.02, `peak ${peak} grants in 1 s, limit ${R}`);
    assert.ok(grants.length >= R * 1.5, `only ${grants.length} grants in 2 s at ${R}/s: the batching starves callers`);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await deletePrefix(redis.url, prefix);
  }
});

test('far under a high quota, one Redis round trip serves many requests (the demand of the next 50 ms)', async () => {
  const prefix = uniqueName('pacer');
  const pacer = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 100_000 });
  try {
    // 16 callers, each copying a "file" for 20 ms between requests: about 800 requests a second,
    // arriving one by one, as a worker's files do. Reserving only for who is waiting right now
    // made that about one round trip per request.
    let grants = 0;
    const stopAt = Date.now() + 1500;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < stopAt) {
          await pacer.acquire();
          grants++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    assert.ok(grants > 400, `only ${grants} grants`);
    assert.ok(pacer.roundTrips * 5 < grants, `${pacer.roundTrips} Redis round trips for ${grants} grants`);
  } finally {
    await pacer.close();
    await deletePrefix(redis.url, prefix);
  }
});

test('a different prefix is an independent budget', async () => {
  const R = 20;
  const a = createDrivePacer({ redisUrl: redis.url, prefix: uniqueName('pacer'), maxPerSecond: R });
  const b = createDrivePacer({ redisUrl: redis.url, prefix: uniqueName('pacer'), maxPerSecond: R });
  try {
    const grantsA = hammer([a], 5, 1500);
    const grantsB = hammer([b], 5, 1500);
    const [ga, gb] = await Promise.all([grantsA, grantsB]);
    assert.ok(ga.length >= R && gb.length >= R, `a ${ga.length}, b ${gb.length}: each should get about ${1.5 * R}`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/**
 * How long `p` is held back once another replica has paused: it may still spend the few slots it
 * reserved before the pause (at most 50 ms worth: 4 more at 100/s); the next one waits the pause out.
 */
async function pausedFor(p: DrivePacer): Promise<number> {
  const started = Date.now();
  for (let slipped = 0; ; slipped++) {
    const asked = Date.now();
    await p.acquire();
    if (Date.now() - asked >= 500) return Date.now() - started;
    assert.ok(slipped < 4, `${slipped + 1} requests went out during a backoff`);
  }
}

test('backoff on one pacer pauses the other', async () => {
  const prefix = uniqueName('pacer');
  const a = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 100 });
  const b = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 100 });
  try {
    await b.acquire(); // warm: b's connection is up, so the wait below is the pause alone
    await a.backoff(1200);
    assert.ok((await pausedFor(b)) >= 1000, 'b went on despite a 1200 ms backoff');
    // A shorter backoff never shortens a longer pause already in force.
    await a.backoff(1500);
    await a.backoff(10);
    assert.ok((await pausedFor(b)) >= 1300, 'a short backoff cut a longer pause short');
  } finally {
    await Promise.all([a.close(), b.close()]);
    await deletePrefix(redis.url, prefix);
  }
});

test('acquire rejects when its signal aborts during a wait', async () => {
  const prefix = uniqueName('pacer');
  const a = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 10 });
  try {
    await a.backoff(5000);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('stopping')), 100);
    await assert.rejects(a.acquire(ctl.signal), /stopping/);
  } finally {
    await a.close();
    await deletePrefix(redis.url, prefix);
  }
});
