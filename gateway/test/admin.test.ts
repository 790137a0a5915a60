// The queue dashboard (bull-board at /admin/queues) and the gateway's /metrics: admin tokens only.
// Real Redis queues under a unique prefix; the upstream services are a closed port (not needed here).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { createLogger, QUEUES, redisConnection } from '@drive-import/common';
import { deletePrefix, findOrStartRedis, TEST_INTERNAL_TOKEN, uniqueName, type RedisHandle } from '@drive-import/testing';
import { loadGatewayConfig, startGateway } from '../src/index.ts';
import { ADMIN_TOKEN as TOKEN, ALICE, closedGateway, OPS } from './support.ts';

const log = createLogger('gateway-test', 'silent');

const gateway = (queues?: Queue[]) => closedGateway({ queues });

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('/admin/queues', () => {
  let redis: RedisHandle;
  let prefix: string;
  let queues: Queue[];
  before(async () => {
    redis = await findOrStartRedis();
    prefix = uniqueName('gw');
    queues = [QUEUES.listing, QUEUES.copy].map((name) => new Queue(name, { connection: redisConnection(redis.url), prefix }));
    await queues[1]!.add('batch', { n: 1 }, { jobId: 'job-b0' });
    await queues[1]!.add('batch', { n: 2 }, { jobId: 'job-b1' });
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await deletePrefix(redis.url, prefix);
    await redis.stop();
  });

  it('is off without queues: 404 for an admin', async () => {
    const app = await gateway();
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) assert.equal((await app.request(path, auth(TOKEN))).status, 404);
  });

  it('a token that is not an admin gets 403; a stored admin token gets in', async () => {
    const app = await gateway(queues);
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await app.request(path, auth(ALICE));
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'forbidden');
      assert.equal((await app.request(path, auth(OPS))).status, 200);
    }
  });

  it('without a token or with a wrong one: 401 in the error shape, for the page, its API and its assets', async () => {
    const app = await gateway(queues);
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
      for (const init of [{}, auth('wrong-token-0123456789'), auth(`${TOKEN}x`), auth(TOKEN.slice(1))]) {
        const res = await app.request(path, init);
        assert.equal(res.status, 401, `${path} ${JSON.stringify(init)}`);
        const body = (await res.json()) as { error: { code: string } };
        assert.equal(body.error.code, 'unauthorized');
      }
      // A header without `Bearer <token>` is no token at all.
      for (const authorization of [TOKEN, 'Bearer ', `Basic ${TOKEN}`, `Bearer ${TOKEN} x`]) assert.equal((await app.request(path, { headers: { authorization } })).status, 401);
    }
  });

  it('with the token: the page renders, its assets load, and its API lists both queues with their jobs', async () => {
    const app = await gateway(queues);
    const page = await app.request('/admin/queues', auth(TOKEN));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="root">/);
    // The page loads its scripts relative to <base href>, from the dashboard's own static route.
    const base = /<base href="([^"]+)"/.exec(html)?.[1];
    assert.equal(base, '/admin/queues/');
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map((m) => new URL(m[1]!, `http://gateway${base}`).pathname);
    assert.ok(scripts.length >= 1 && scripts.every((s) => s.startsWith('/admin/queues/static/js/')), scripts.join(', '));
    for (const s of scripts) assert.equal((await app.request(s, auth(TOKEN))).status, 200, s);
    const js = await app.request(scripts.at(-1)!, auth(TOKEN));
    assert.equal(js.status, 200);
    assert.ok((await js.arrayBuffer()).byteLength > 10_000);

    const res = await app.request('/admin/queues/api/queues?activeQueue=copy&status=waiting&page=1', auth(TOKEN));
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ id: string }> }> };
    assert.deepEqual(body.queues.map((q) => q.name).sort(), ['copy', 'listing']);
    const copy = body.queues.find((q) => q.name === 'copy')!;
    assert.equal(copy.counts.waiting, 2);
    assert.deepEqual(copy.jobs.map((j) => j.id).sort(), ['job-b0', 'job-b1']);
  });

  it('startGateway serves it over HTTP to ADMIN_TOKEN; a short token is refused', async () => {
    const config = loadGatewayConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix, ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'silent', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN });
    const server = await startGateway(config, { port: 0, log });
    try {
      assert.equal((await fetch(`${server.url}/admin/queues/api/queues`)).status, 401);
      const res = await fetch(`${server.url}/admin/queues/api/queues`, auth(TOKEN));
      assert.equal(res.status, 200);
      const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
      assert.equal(body.queues.find((q) => q.name === 'copy')?.counts.waiting, 2);
    } finally {
      await server.close();
    }
    assert.throws(() => loadGatewayConfig({ ADMIN_TOKEN: 'short', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN }), /ADMIN_TOKEN/);
    assert.equal(loadGatewayConfig({ ADMIN_TOKEN: '', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN }).ADMIN_TOKEN, undefined, 'empty means unset');
    assert.throws(() => loadGatewayConfig({}), /INTERNAL_TOKEN/);
  });
});

describe('/metrics', () => {
  it('serves request durations by route pattern and the process metrics, to admin tokens only', async () => {
    const app = await gateway();
    const id = '3f1c2b7e-2d7a-4f7e-9a51-0c7b7f1e8e11';
    // The metadata-service is down: a 503 from the status route, labelled with its pattern.
    assert.equal((await app.request(`/api/import/status/${id}`, auth(ALICE))).status, 503);
    assert.equal((await app.request('/api/import/status/not-a-uuid', auth(ALICE))).status, 400);
    assert.equal((await app.request('/metrics')).status, 401);
    assert.equal((await app.request('/metrics', auth(ALICE))).status, 403);
    const res = await app.request('/metrics', auth(TOKEN));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^drive_import_http_request_duration_seconds_count\{service="gateway",method="GET",route="\/api\/import\/status\/:job_id",status="503"\} 1$/m);
    assert.match(text, /^drive_import_http_request_duration_seconds_count\{service="gateway",method="GET",route="\/api\/import\/status\/:job_id",status="400"\} 1$/m);
    assert.ok(!text.includes(id), 'no raw paths');
    assert.match(text, /^drive_import_gateway_process_resident_memory_bytes /m);
  });
});
