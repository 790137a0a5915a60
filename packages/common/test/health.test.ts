/** /health under load: checks cached for a TTL, shared while in flight, bounded in time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { cachedCheck, health, healthRoute } from '../src/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('200 concurrent callers share one run of a check; within the TTL nobody runs it again', async () => {
  let runs = 0;
  let t = 0;
  const check = cachedCheck(
    async () => {
      runs++;
      await sleep(20);
    },
    { ttlMs: 1000, now: () => t },
  );
  const answers = await Promise.all(Array.from({ length: 200 }, () => check()));
  assert.equal(runs, 1);
  assert.ok(answers.every((a) => a === 'ok'));
  t = 999;
  assert.equal(await check(), 'ok');
  assert.equal(runs, 1);
  t = 1200; // TTL over: one more run, again shared
  await Promise.all(Array.from({ length: 50 }, () => check()));
  assert.equal(runs, 2);
});

test('a failure is cached for the shorter failure TTL (a down dependency is not hammered), with its reason', async () => {
  let runs = 0;
  let t = 0;
  const check = cachedCheck(
    async () => {
      runs++;
      throw new Error('connection refused');
    },
    { ttlMs: 500, failureTtlMs: 100, now: () => t },
  );
  assert.equal(await check(), 'connection refused');
  assert.equal(await check(), 'connection refused');
  assert.equal(runs, 1);
  t = 150;
  await check();
  assert.equal(runs, 2);
});

test('a dependency that comes back shows ok within the failure TTL, not the whole TTL (start-up: every service up, /health 503 for 2 s)', async () => {
  let up = false;
  let t = 0;
  const check = cachedCheck(
    async () => {
      if (!up) throw new Error('connection refused');
    },
    { now: () => t },
  );
  assert.equal(await check(), 'connection refused');
  up = true;
  t = 250; // past the default failure TTL (200 ms), well inside the 2 s TTL
  assert.equal(await check(), 'ok');
  up = false;
  t = 1000; // an ok answer is kept for the whole TTL
  assert.equal(await check(), 'ok');
});

test('a check that hangs is cut at the timeout, and the next caller after the TTL starts a fresh one', async () => {
  let runs = 0;
  const check = cachedCheck(
    () => {
      runs++;
      return new Promise(() => {});
    },
    { ttlMs: 30, timeoutMs: 50 },
  );
  const started = performance.now();
  const [a, b] = await Promise.all([check(), check()]);
  assert.equal(a, 'timed out after 50 ms');
  assert.equal(b, a);
  assert.ok(performance.now() - started < 1000);
  assert.equal(runs, 1);
  await sleep(40);
  assert.equal(await check(), 'timed out after 50 ms');
  assert.equal(runs, 2);
});

test('healthRoute: 200 concurrent /health calls make one call per dependency; health() makes one per call', async () => {
  const calls = { db: 0, queue: 0 };
  const checks = {
    db: async () => {
      calls.db++;
      await sleep(10);
    },
    queue: async () => {
      calls.queue++;
    },
  };
  const app = new Hono();
  app.get('/health', healthRoute('svc', checks));
  app.get('/uncached', (c) => health(c, 'svc', checks));
  const answers = await Promise.all(Array.from({ length: 200 }, () => app.request('/health')));
  assert.ok(answers.every((r) => r.status === 200));
  assert.deepEqual(await answers[0]!.json(), { status: 'ok', service: 'svc', version: (await answers[1]!.json() as { version: string }).version, checks: { db: 'ok', queue: 'ok' } });
  assert.deepEqual(calls, { db: 1, queue: 1 });

  await Promise.all(Array.from({ length: 20 }, () => app.request('/uncached')));
  assert.deepEqual(calls, { db: 21, queue: 21 });
});

test('healthRoute keeps the shape: 503 degraded with the reason when a check fails', async () => {
  const app = new Hono();
  app.get('/health', healthRoute('svc', { ok: async () => {}, broken: async () => Promise.reject(new Error('disk full')) }));
  const res = await app.request('/health');
  assert.equal(res.status, 503);
  const body = (await res.json()) as { status: string; checks: Record<string, string> };
  assert.equal(body.status, 'degraded');
  assert.deepEqual(body.checks, { ok: 'ok', broken: 'disk full' });
});
