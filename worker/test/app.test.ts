/** The worker's HTTP side through app.request(): health from its two checks, metrics from its own registry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@drive-import/common';
import { metricSeries } from '@drive-import/testing';
import { createWorkerApp } from '../src/index.ts';
import { createWorkerMetrics } from '../src/metrics.ts';

const log = createLogger('worker-app-test', 'silent');
const ok = async () => 'PONG';

describe('worker app', () => {
  it('health is 200 when Redis and the metadata-service answer', async () => {
    const app = createWorkerApp({ log, registry: createWorkerMetrics('w-1').registry, pingRedis: ok, pingMetadata: ok });
    const res = await app.request('/health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; service: string; checks: Record<string, string> };
    assert.equal(body.status, 'ok');
    assert.equal(body.service, 'worker');
    assert.deepEqual(body.checks, { redis: 'ok', 'metadata-service': 'ok' });
  });

  it('health is 503 naming the dependency that failed', async () => {
    const app = createWorkerApp({
      log,
      registry: createWorkerMetrics('w-2').registry,
      pingRedis: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
      pingMetadata: ok,
    });
    const res = await app.request('/health');
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'degraded');
    assert.match(body.checks.redis ?? '', /ECONNREFUSED/);
    assert.equal(body.checks['metadata-service'], 'ok');
  });

  it("/metrics serves the worker's series, labelled with its id, next to the HTTP ones", async () => {
    const metrics = createWorkerMetrics('w-3');
    metrics.files.inc({ status: 'stored' }, 2);
    const app = createWorkerApp({ log, registry: metrics.registry, pingRedis: ok, pingMetadata: ok });
    await app.request('/health');
    const text = await (await app.request('/metrics')).text();
    assert.deepEqual(metricSeries(text, 'drive_import_worker_files_total'), [[{ status: 'stored', worker_id: 'w-3' }, 2]]);
    const health = metricSeries(text, 'drive_import_http_request_duration_seconds_count').find(([l]) => l.route === '/health');
    assert.ok(health, 'the /health request was timed');
    assert.equal(health[0].service, 'worker');
  });
});
