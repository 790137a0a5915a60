/** The shared metrics middleware and /metrics route: route patterns as labels, one registry per app. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, createLogger, createServiceApp, createServiceMetrics, mountMetrics, queueDepthGauge } from '../src/index.ts';
import { metricSeries as series } from '@drive-import/testing';

const log = createLogger('metrics-test', 'silent');

function app(service = 'test-service') {
  const metrics = createServiceMetrics(service);
  const app = createServiceApp(log);
  mountMetrics(app, metrics);
  app.get('/items/:id', (c) => c.json({ id: c.req.param('id') }));
  app.post('/items/:id/fail', () => {
    throw new AppError(409, 'conflict', 'no');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  return { app, metrics };
}


test('request durations are labelled by method, route pattern and status, not the raw path', async () => {
  const { app: a } = app();
  for (const id of ['1', '2', '3']) assert.equal((await a.request(`/items/${id}`)).status, 200);
  assert.equal((await a.request('/items/7/fail', { method: 'POST' })).status, 409);
  assert.equal((await a.request('/boom')).status, 500);
  assert.equal((await a.request('/no/such/path')).status, 404);

  const res = await a.request('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const counts = series(text, 'drive_import_http_request_duration_seconds_count');
  const count = (labels: Record<string, string>) =>
    counts.filter(([l]) => Object.entries(labels).every(([k, v]) => l[k] === v)).reduce((n, [, v]) => n + v, 0);
  assert.equal(count({ service: 'test-service', method: 'GET', route: '/items/:id', status: '200' }), 3);
  assert.equal(count({ method: 'POST', route: '/items/:id/fail', status: '409' }), 1);
  assert.equal(count({ method: 'GET', route: '/boom', status: '500' }), 1);
  assert.equal(count({ status: '404' }), 1);
  assert.ok(!text.includes('/items/1'), 'no raw paths as labels');
  assert.ok(!counts.some(([l]) => l.route === '/no/such/path'), 'an unmatched path is not a label value');
  // A histogram: buckets and sum too.
  assert.ok(series(text, 'drive_import_http_request_duration_seconds_bucket').some(([l]) => l.route === '/items/:id' && l.le === '+Inf'));
  // Default process metrics, prefixed per service.
  assert.match(text, /^drive_import_test_service_process_cpu_user_seconds_total /m);
  assert.match(text, /^drive_import_test_service_nodejs_heap_size_used_bytes /m);
});

test('each app has its own registry: two apps in one process neither collide nor share counts', async () => {
  const one = app('svc-a');
  const two = app('svc-b');
  await one.app.request('/items/1');
  await one.app.request('/items/2');
  await two.app.request('/items/3');
  const a = series(await (await one.app.request('/metrics')).text(), 'drive_import_http_request_duration_seconds_count');
  const b = series(await (await two.app.request('/metrics')).text(), 'drive_import_http_request_duration_seconds_count');
  assert.equal(a.find(([l]) => l.route === '/items/:id')?.[1], 2);
  assert.equal(b.find(([l]) => l.route === '/items/:id')?.[1], 1);
  assert.ok(a.every(([l]) => l.service === 'svc-a') && b.every(([l]) => l.service === 'svc-b'));
});

test('queue depths are read at scrape time; a queue that cannot answer leaves its series out, the scrape still works', async () => {
  const metrics = createServiceMetrics('q');
  let waiting = 5;
  const healthy = { name: 'copy', getJobCounts: async () => ({ waiting, active: 2, delayed: 1, failed: 0, completed: 9 }) };
  const broken = { name: 'listing', getJobCounts: async (): Promise<Record<string, number>> => Promise.reject(new Error('redis down')) };
  queueDepthGauge(metrics.registry, [healthy, broken]);
  const read = async () => series(await metrics.registry.metrics(), 'drive_import_queue_jobs');
  let s = await read();
  assert.deepEqual(
    Object.fromEntries(s.map(([l, v]) => [`${l.queue}/${l.state}`, v])),
    { 'copy/waiting': 5, 'copy/active': 2, 'copy/delayed': 1, 'copy/failed': 0, 'copy/completed': 9 },
  );
  waiting = 0;
  s = await read();
  assert.equal(s.find(([l]) => l.state === 'waiting')?.[1], 0);
});

test('the event loop max since start survives scrapes (prom-client resets its own at each)', async () => {
  const { app: a } = app('loop-test');
  await a.request('/metrics');
  const blockUntil = performance.now() + 200;
  await new Promise((r) => setTimeout(r, 5));
  while (performance.now() < blockUntil) {
    /* block the loop for ~200 ms */
  }
  await new Promise((r) => setTimeout(r, 20));
  const max = async () => series(await (await a.request('/metrics')).text(), 'drive_import_eventloop_delay_max_seconds').find(([l]) => l.service === 'loop-test')?.[1];
  const first = await max();
  assert.ok(first !== undefined && first >= 0.1, `max ${first}`);
  assert.ok((await max())! >= 0.1, 'still there at the next scrape');
});
