// Live job progress and the page's session, through a real gateway, metadata-service (SQLite) and
// Redis: a change to a job reaches an SSE client by push (no polling), only the job's owner (and
// admins) hear of it, and the session cookie signs EventSource-style requests in without a header.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type JobSummary } from '@drive-import/common';
import { createToken, openDb, startMetadataService, type RunningMetadataService } from '@drive-import/metadata-service';
import { deletePrefix, findOrStartRedis, TEST_INTERNAL_TOKEN, tempDir, uniqueName, type RedisHandle } from '@drive-import/testing';
import { loadGatewayConfig, SESSION_COOKIE, startGateway } from '../src/index.ts';

const log = createLogger('live-test', 'silent');
const ADMIN = 'test-admin-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Reads SSE events off a fetch response until `until` says stop (or the timeout). */
async function readEvents(res: Response, until: (events: { event: string; data: string }[]) => boolean, timeoutMs = 10_000) {
  const events: { event: string; data: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
        events.push({ event, data });
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe('live job events and the session cookie', () => {
  let redis: RedisHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let prefix: string;
  let metadata: RunningMetadataService;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const tokens: Record<string, string> = {};

  async function createJob(owner: string): Promise<JobSummary> {
    const res = await fetch(`${metadata.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(TEST_INTERNAL_TOKEN) },
      body: JSON.stringify({ folder_id: 'folderAbcdefghij', folder_name: `${owner}'s`, destination: 'local', batch_size: 10, owner }),
    });
    assert.equal(res.status, 201);
    return (await res.json()) as JobSummary;
  }
  const pause = (id: string) => fetch(`${metadata.url}/jobs/${id}/pause`, { method: 'POST', headers: bearer(TEST_INTERNAL_TOKEN) });

  before(async () => {
    redis = await findOrStartRedis();
    dir = await tempDir('live');
    prefix = uniqueName('live');
    const databaseUrl = `file:${join(dir.path, 'live.db')}`;
    metadata = await startMetadataService({ databaseUrl, port: 0, log, redisUrl: redis.url, queuePrefix: prefix, internalToken: TEST_INTERNAL_TOKEN });
    const db = await openDb(databaseUrl);
    try {
      for (const name of ['alice', 'bob']) tokens[name] = (await createToken(db, name, false)).token;
    } finally {
      await db.close();
    }
    const config = loadGatewayConfig({
      LOG_LEVEL: 'silent',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
      ADMIN_TOKEN: ADMIN,
      METADATA_SERVICE_URL: metadata.url,
      AUTH_CACHE_TTL_MS: '0',
    });
    gw = await startGateway(config, { port: 0, log });
  });
  after(async () => {
    await gw?.close();
    await metadata?.close();
    await deletePrefix(redis.url, prefix);
    await redis?.stop();
    await dir?.cleanup();
  });

  it("a job's stream sends the job now, then its change by push", async () => {
    const job = await createJob('alice');
    const res = await fetch(`${gw.url}/api/import/jobs/${job.job_id}/events`, { headers: bearer(tokens.alice!) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reading = readEvents(res, (events) => events.some((e) => e.event === 'job' && (JSON.parse(e.data) as JobSummary).status === 'paused'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await pause(job.job_id)).status, 200);
    const events = await reading;
    assert.equal(events[0]?.event, 'ready');
    const jobs = events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as JobSummary);
    assert.equal(jobs[0]?.status, 'queued', 'the job as it was when the stream opened');
    assert.equal(jobs.at(-1)?.status, 'paused', 'the change, pushed');
    assert.ok(jobs.every((j) => j.job_id === job.job_id));
  });

  it("another token's job is a 404; the all-jobs stream carries only the caller's jobs (admins: all)", async () => {
    const bobs = await createJob('bob');
    assert.equal((await fetch(`${gw.url}/api/import/jobs/${bobs.job_id}/events`, { headers: bearer(tokens.alice!) })).status, 404);
    const alices = await createJob('alice');
    const aliceStream = await fetch(`${gw.url}/api/import/events`, { headers: bearer(tokens.alice!) });
    const adminStream = await fetch(`${gw.url}/api/import/events`, { headers: bearer(ADMIN) });
    const isPaused = (id: string) => (events: { event: string; data: string }[]) => events.some((e) => e.event === 'job' && (JSON.parse(e.data) as JobSummary).job_id === id && JSON.parse(e.data).status === 'paused');
    const alice = readEvents(aliceStream, isPaused(alices.job_id));
    const admin = readEvents(adminStream, (events) => isPaused(alices.job_id)(events) && isPaused(bobs.job_id)(events));
    await new Promise((r) => setTimeout(r, 300));
    await pause(bobs.job_id);
    await pause(alices.job_id);
    const seenByAlice = (await alice).filter((e) => e.event === 'job').map((e) => (JSON.parse(e.data) as JobSummary).job_id);
    assert.ok(seenByAlice.includes(alices.job_id));
    assert.ok(!seenByAlice.includes(bobs.job_id), "bob's job never reaches alice's stream");
    const seenByAdmin = new Set((await admin).filter((e) => e.event === 'job').map((e) => (JSON.parse(e.data) as JobSummary).job_id));
    assert.ok(seenByAdmin.has(alices.job_id) && seenByAdmin.has(bobs.job_id));
  });

  it('POST /api/session sets an HttpOnly SameSite=Strict cookie that signs requests in; DELETE signs out', async () => {
    const bad = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'dit_not-a-real-token-000000000' }) });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const res = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.alice }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: 'alice', admin: false });
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=`));
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.doesNotMatch(cookie, /Secure/i, 'plain HTTP: no Secure flag, or the browser would drop it');
    const session = cookie.split(';')[0]!;
    assert.equal((await fetch(`${gw.url}/api/import/jobs`, { headers: { cookie: session } })).status, 200);
    const stream = await fetch(`${gw.url}/api/import/events`, { headers: { cookie: session } });
    assert.equal(stream.status, 200);
    await stream.body?.cancel();
    // Behind a TLS-terminating proxy the cookie is Secure.
    const https = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ token: tokens.alice }) });
    assert.match(https.headers.get('set-cookie') ?? '', /Secure/i);
    const out = await fetch(`${gw.url}/api/session`, { method: 'DELETE', headers: { cookie: session } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/i);
    assert.equal((await fetch(`${gw.url}/api/import/jobs`)).status, 401);
  });
});
