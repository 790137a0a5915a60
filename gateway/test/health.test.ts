// The gateway's /health under load: every answer 200, and the services behind it asked at most a
// few times (once per TTL), not once per call.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createLogger, ServiceClient } from '@drive-import/common';
import { createGatewayApp } from '../src/app.ts';
import { ADMIN_TOKEN, ALICE, bearer, testAuth } from './support.ts';

interface FakeService {
  url: string;
  hits: number;
  server: Server;
}

/** A service that answers GET /health ok after a little work, counting the calls. */
async function fakeService(name: string, delayMs = 15): Promise<FakeService> {
  const fake: FakeService = { url: '', hits: 0, server: createServer() };
  fake.server.on('request', (req, res) => {
    if (req.url !== '/health') return void res.writeHead(404).end();
    fake.hits++;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', service: name, version: '0.0.0', checks: {} }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

const services: Record<string, FakeService> = {};
before(async () => {
  for (const name of ['import-service', 'metadata-service', 'storage-service']) services[name] = await fakeService(name);
});
after(async () => {
  for (const s of Object.values(services)) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

function gateway(ttlMs?: number) {
  return createGatewayApp({
    log: createLogger('gateway-health-test', 'silent'),
    importService: new ServiceClient('import-service', services['import-service']!.url),
    metadataService: new ServiceClient('metadata-service', services['metadata-service']!.url),
    storageService: new ServiceClient('storage-service', services['storage-service']!.url),
    health: ttlMs === undefined ? undefined : { ttlMs },
    auth: testAuth(),
  });
}

const resetHits = () => Object.values(services).forEach((s) => (s.hits = 0));

test('200 concurrent /health calls: all 200 ok, each service asked once', async () => {
  resetHits();
  const app = gateway();
  const answers = await Promise.all(Array.from({ length: 200 }, () => app.request('/health', { headers: bearer(ADMIN_TOKEN) })));
  assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
  const body = (await answers[199]!.json()) as { status: string; checks: Record<string, string> };
  assert.equal(body.status, 'ok');
  assert.deepEqual(body.checks, { 'import-service': 'ok', 'metadata-service': 'ok', 'storage-service': 'ok' });
  for (const [name, s] of Object.entries(services)) assert.ok(s.hits <= 2, `${name} asked ${s.hits} times for 200 gateway /health calls`);
});

test('a steady stream of /health calls asks each service about once per TTL', async () => {
  resetHits();
  const app = gateway(100);
  const until = performance.now() + 550;
  let answered = 0;
  const loop = async () => {
    while (performance.now() < until) {
      const res = await app.request('/health');
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      answered++;
    }
  };
  await Promise.all(Array.from({ length: 20 }, loop));
  assert.ok(answered >= 40, `only ${answered} answers`);
  // ~550 ms / 100 ms TTL (+ the time each check takes): a handful, never one per call.
  for (const [name, s] of Object.entries(services)) assert.ok(s.hits >= 1 && s.hits <= 8, `${name} asked ${s.hits} times for ${answered} calls`);
});

test('public /health says only ok or not; the per-service details need an admin token', async () => {
  const app = gateway();
  for (const headers of [{}, bearer(ALICE), bearer('dit_not-a-token-at-all-000000000')]) {
    const res = await app.request('/health', { headers });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  }
  const admin = (await (await app.request('/health', { headers: bearer(ADMIN_TOKEN) })).json()) as { checks?: Record<string, string> };
  assert.deepEqual(Object.keys(admin.checks ?? {}).sort(), ['import-service', 'metadata-service', 'storage-service']);
});
