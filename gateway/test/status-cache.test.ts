import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createStatusCache } from '../src/status-cache.ts';

test('concurrent misses share one load; a fresh answer costs no load', async () => {
  const cache = createStatusCache({ freshMs: 100, maxAgeMs: 1000 });
  let loads = 0;
  const load = async () => {
    loads++;
    await sleep(20);
    return `v${loads}`;
  };
  assert.deepEqual(await Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)]), ['v1', 'v1', 'v1']);
  assert.equal(await cache.get('a', load), 'v1');
  assert.equal(loads, 1);
});

test('past freshMs the last answer is served at once and one refresh runs behind it', async () => {
  const cache = createStatusCache({ freshMs: 30, maxAgeMs: 1000 });
  let loads = 0;
  const load = async () => {
    loads++;
    await sleep(50);
    return `v${loads}`;
  };
  await cache.get('a', load);
  await sleep(40);
  const started = performance.now();
  assert.deepEqual(await Promise.all([cache.get('a', load), cache.get('a', load)]), ['v1', 'v1']);
  assert.ok(performance.now() - started < 25, 'answered without waiting for the refresh');
  await sleep(70);
  assert.equal(await cache.get('a', load), 'v2');
  assert.equal(loads, 2, 'one refresh for both polls');
});

test('an answer older than maxAgeMs is never served; failures are not kept', async () => {
  const cache = createStatusCache({ freshMs: 10, maxAgeMs: 50 });
  let n = 0;
  await cache.get('a', async () => `v${++n}`);
  await sleep(70);
  assert.equal(await cache.get('a', async () => `v${++n}`), 'v2', 'waited for a new answer');
  await assert.rejects(cache.get('b', async () => Promise.reject(new Error('404'))), /404/);
  assert.equal(await cache.get('b', async () => 'ok'), 'ok', 'the failure was not remembered');
});
