/** retryWithBackoff: the one retry loop, with real timers kept to a few milliseconds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, retryWithBackoff } from '../src/index.ts';

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
