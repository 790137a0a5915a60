// Job callbacks through a real metadata-service and a real receiver on loopback (allowed by name):
// one signed call per job, retried with backoff after a failure, every attempt kept; private,
// loopback and link-local targets refused unless WEBHOOK_ALLOW_HOSTS names them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, isNonPublicAddress, JobSummary, resolveWebhookTarget, WebhookDeliveriesResponse } from '@drive-import/common';
import { deletePrefix, findOrStartRedis, TEST_INTERNAL_TOKEN, tempDir, uniqueName, waitFor, type RedisHandle } from '@drive-import/testing';
import { startMetadataService, type RunningMetadataService } from '../src/index.ts';

const SECRET = 'webhook-test-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe('job callbacks', () => {
  let redis: RedisHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let prefix: string;
  let svc: RunningMetadataService;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  /** Status codes to answer, in order; 200 once they run out. */
  const answers: number[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const newJob = (callback_url: string) => call('POST', '/jobs', { folder_id: 'folderAbcdefghij', folder_name: 'x', destination: 'local', batch_size: 10, callback_url });

  before(async () => {
    redis = await findOrStartRedis();
    dir = await tempDir('webhooks');
    prefix = uniqueName('hooks');
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    svc = await startMetadataService({
      databaseUrl: `file:${join(dir.path, 'hooks.db')}`,
      port: 0,
      log: createLogger('webhook-test', 'silent'),
      redisUrl: redis.url,
      queuePrefix: prefix,
      internalToken: TEST_INTERNAL_TOKEN,
      webhooks: { secret: SECRET, allowHosts: ['127.0.0.1'], maxAttempts: 4, retryBaseMs: 100, timeoutMs: 2000 },
      webhookSweepMs: 100,
    });
  });
  after(async () => {
    await svc?.close();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
    await deletePrefix(redis.url, prefix);
    await redis?.stop();
    await dir?.cleanup();
  });

  it('an ended job is POSTed once, signed; after a 500 the retry delivers and both attempts are kept', async () => {
    answers.push(500);
    const created = await newJob(receiverUrl);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const job = JobSummary.parse(created.body);
    assert.equal(job.callback_state, 'pending');
    await call('POST', `/jobs/${job.job_id}/listing-complete`); // an empty folder: completed at once
    const done = await waitFor('the delivery', async () => {
      const j = JobSummary.parse((await call('GET', `/jobs/${job.job_id}`)).body);
      return j.callback_state === 'delivered' ? j : null;
    }, 15_000, 50);
    assert.equal(done.status, 'completed');
    const mine = received.filter((r) => r.body.includes(job.job_id));
    assert.equal(mine.length, 2, 'the 500, then the delivery');
    const [, delivered] = mine;
    const signature = String(delivered!.headers['x-drive-import-signature']);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!;
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${delivered!.body}`).digest('hex'), 'the signature verifies');
    assert.equal(JobSummary.parse(JSON.parse(delivered!.body)).status, 'completed');
    const deliveries = WebhookDeliveriesResponse.parse((await call('GET', `/jobs/${job.job_id}/deliveries`)).body).deliveries;
    assert.deepEqual(deliveries.map((d) => [d.attempt, d.status_code, d.ok]), [[2, 200, true], [1, 500, false]]);
    // Nothing more is sent for it.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(received.filter((r) => r.body.includes(job.job_id)).length, 2);
  });

  it('a receiver that keeps failing is given up after WEBHOOK_MAX_ATTEMPTS, each attempt kept', async () => {
    answers.push(503, 503, 503, 503);
    const job = JobSummary.parse((await newJob(receiverUrl)).body);
    await call('POST', `/jobs/${job.job_id}/listing-complete`);
    await waitFor('giving up', async () => JobSummary.parse((await call('GET', `/jobs/${job.job_id}`)).body).callback_state === 'failed', 20_000, 50);
    const deliveries = WebhookDeliveriesResponse.parse((await call('GET', `/jobs/${job.job_id}/deliveries`)).body).deliveries;
    assert.equal(deliveries.length, 4);
    assert.ok(deliveries.every((d) => !d.ok && d.status_code === 503));
  });

  it('private, loopback and link-local targets and other schemes are refused before any connection', async () => {
    for (const url of ['http://10.1.2.3/hook', 'http://192.168.1.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/x', 'http://localhost:9/x', 'http://0.0.0.0/x']) {
      const res = await newJob(url);
      assert.equal(res.status, 400, url);
      assert.equal((res.body.error as { code: string }).code, 'callback_url_refused', url);
    }
    for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'http://user:pw@127.0.0.1/x']) assert.equal((await newJob(url)).status, 400, url);
    // The checks themselves, without DNS: the address classes.
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '224.0.0.1']) assert.ok(isNonPublicAddress(a), a);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.ok(!isNonPublicAddress(a), a);
    // Allowed by name: loopback is fine then.
    assert.equal((await resolveWebhookTarget('http://127.0.0.1:9/x', ['127.0.0.1'])).address, '127.0.0.1');
  });
});
