/** retryWithBackoff: the one retry loop, with real timers kept to a few milliseconds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, capRetryAfterMs, classifyDriveError, MAX_RETRY_AFTER_MS, parseRetryAfter, retryWithBackoff, sleep } from '../src/index.ts';

const failing = (times: number, err: (n: number) => Error = (n) => new Error(`try ${n}`)) => {
  const tries: number[] = [];
  const fn = async (attempt: number) => {
    tries.push(attempt);
    if (tries.length <= times) throw err(attempt);
    return 'done';
  };
  return { fn, tries };
};

describe('retryWithBackoff', () => {
  it('retries until fn succeeds, numbering the tries and waiting the backoff between them', async () => {
    const { fn, tries } = failing(2);
    const retries: Array<[string, number, number]> = [];
    const result = await retryWithBackoff(fn, {
      attempts: 5,
      baseMs: 4,
      maxMs: 6,
      onRetry: (err, attempt, delayMs) => void retries.push([(err as Error).message, attempt, delayMs]),
    });
    assert.equal(result, 'done');
    assert.deepEqual(tries, [1, 2, 3]);
    assert.deepEqual(retries.map(([m, a]) => [m, a]), [['try 1', 1], ['try 2', 2]]);
    // Full jitter over half the exponential step: 2-4 ms, then 3-6 ms (capped at maxMs).
    const [first, second] = retries.map(([, , d]) => d);
    assert.ok(first! >= 2 && first! <= 4, `first wait ${first}`);
    assert.ok(second! >= 3 && second! <= 6, `second wait ${second}`);
  });

  it('throws the last failure after `attempts` tries', async () => {
    const { fn, tries } = failing(10);
    await assert.rejects(retryWithBackoff(fn, { attempts: 3, baseMs: 1 }), /try 3/);
    assert.deepEqual(tries, [1, 2, 3]);
  });

  it('a failure shouldRetry refuses is thrown at once, without waiting', async () => {
    const final = Object.assign(new Error('404'), { status: 404 });
    const { fn, tries } = failing(10, (n) => (n === 2 ? final : new Error('503')));
    let waits = 0;
    const err = await retryWithBackoff(fn, {
      attempts: 5,
      baseMs: 1,
      shouldRetry: (e) => (e as { status?: number }).status !== 404,
      onRetry: () => void waits++,
    }).catch((e: unknown) => e);
    assert.equal(err, final);
    assert.deepEqual(tries, [1, 2]);
    assert.equal(waits, 1);
  });

  it('waits at least what the server asked for (Retry-After)', async () => {
    const { fn } = failing(1);
    let waited = 0;
    const started = performance.now();
    await retryWithBackoff(fn, { attempts: 2, baseMs: 1, retryAfterMs: () => 40, onRetry: (_e, _a, d) => void (waited = d) });
    assert.equal(waited, 40);
    assert.ok(performance.now() - started >= 35, 'the wait really happened');
  });

  it('awaits onRetry before the next try', async () => {
    const { fn } = failing(1);
    const order: string[] = [];
    await retryWithBackoff(
      async (attempt) => {
        order.push(`try ${attempt}`);
        return fn(attempt);
      },
      {
        attempts: 2,
        baseMs: 1,
        onRetry: async () => {
          await new Promise((r) => setTimeout(r, 10));
          order.push('paused');
        },
      },
    );
    assert.deepEqual(order, ['try 1', 'paused', 'try 2']);
  });

  it('an abort during the wait ends it with the signal reason, and fn is not called again', async () => {
    const { fn, tries } = failing(10);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 20);
    const started = performance.now();
    const err = await retryWithBackoff(fn, { attempts: 5, baseMs: 10_000, signal: controller.signal }).catch((e: unknown) => e);
    assert.equal(err, reason);
    assert.deepEqual(tries, [1]);
    assert.ok(performance.now() - started < 5_000, 'did not wait out the backoff');
    // Already aborted: not even a first try.
    await assert.rejects(retryWithBackoff(fn, { attempts: 5, signal: controller.signal }), (e) => e === reason);
    assert.deepEqual(tries, [1]);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within full jitter, caps at maxMs, and honours a longer Retry-After', () => {
    for (let i = 0; i < 50; i++) {
      const d3 = backoffDelay(3, { baseMs: 100, maxMs: 10_000 });
      assert.ok(d3 >= 200 && d3 <= 400, `attempt 3: ${d3}`);
      const capped = backoffDelay(20, { baseMs: 100, maxMs: 1000 });
      assert.ok(capped >= 500 && capped <= 1000, `capped: ${capped}`);
    }
    assert.equal(backoffDelay(1, { baseMs: 10, retryAfterMs: 5000 }), 5000);
  });
});

describe('Retry-After is capped at 5 minutes and never overflows a timer', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('parseRetryAfter: seconds and HTTP dates, capped; junk is null', () => {
    assert.equal(MAX_RETRY_AFTER_MS, 300_000);
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a past date: go now');
    // Hostile values: every one at most 5 minutes.
    for (const value of ['99999999999', '300', '301', '9'.repeat(400), 'Fri, 31 Dec 9999 23:59:59 GMT', 'Sat, 01 Jan 3000 00:00:00 GMT']) {
      const ms = parseRetryAfter(value, now);
      assert.ok(ms !== null && ms <= MAX_RETRY_AFTER_MS && ms >= 0, `${value.slice(0, 40)}: ${ms}`);
    }
    assert.equal(parseRetryAfter('99999999999', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now), MAX_RETRY_AFTER_MS);
    for (const junk of ['', 'soon', '-5', '0x10', '1e9', 'NaN', 'Infinity']) assert.equal(parseRetryAfter(junk, now), null, junk);
    // Plain digits are seconds, never a year (Date.parse('2030') is a date).
    assert.equal(parseRetryAfter('2030', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('5', now), 5000);
  });

  it('capRetryAfterMs is the one clamp', () => {
    assert.equal(capRetryAfterMs(null), null);
    assert.equal(capRetryAfterMs(undefined), null);
    assert.equal(capRetryAfterMs(Number.NaN), null);
    assert.equal(capRetryAfterMs(-10), 0);
    assert.equal(capRetryAfterMs(1234.2), 1235);
    assert.equal(capRetryAfterMs(Number.POSITIVE_INFINITY), MAX_RETRY_AFTER_MS);
    assert.equal(capRetryAfterMs(2 ** 40), MAX_RETRY_AFTER_MS);
  });

  it('backoffDelay never waits longer than the cap for a huge Retry-After', () => {
    assert.equal(backoffDelay(1, { baseMs: 10, retryAfterMs: 99_999_999_999_000 }), MAX_RETRY_AFTER_MS);
    assert.equal(backoffDelay(1, { baseMs: 10, retryAfterMs: Number.POSITIVE_INFINITY }), MAX_RETRY_AFTER_MS);
    assert.ok(backoffDelay(1, { baseMs: 10, retryAfterMs: Number.NaN }) <= 10);
  });

  it('a Drive 429 with Retry-After: 99999999999 waits 5 minutes, not days (nor 1 ms after a timer overflow)', () => {
    const failure = classifyDriveError({ response: { status: 429, headers: { 'retry-after': '99999999999' } }, message: 'quota' });
    assert.equal(failure.retryAfterMs, MAX_RETRY_AFTER_MS);
    const dated = classifyDriveError({ response: { status: 429, headers: new Headers({ 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }) } });
    assert.equal(dated.retryAfterMs, MAX_RETRY_AFTER_MS);
  });

  it('sleep() clamps an overflowing delay instead of firing at once', async () => {
    const controller = new AbortController();
    let settled = false;
    const waiting = sleep(2 ** 40, controller.signal).then(
      () => (settled = true),
      () => 'aborted',
    );
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(settled, false, 'an overflowed timer would have fired after 1 ms');
    controller.abort(new Error('stop'));
    assert.equal(await waiting, 'aborted');
  });
});
