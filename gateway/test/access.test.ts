// Who gets in, through a real gateway and metadata-service (SQLite) and a real Redis: stored tokens,
// job ownership, revocation, the per-token rate limit, and the internal token between services.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type JobListResponse, type JobSummary } from '@drive-import/common';
import { createToken, openDb, revokeToken, startMetadataService, type RunningMetadataService } from '@drive-import/metadata-service';
import { deletePrefix, findOrStartRedis, TEST_INTERNAL_TOKEN, tempDir, uniqueName, type RedisHandle } from '@drive-import/testing';
import { loadGatewayConfig, startGateway } from '../src/index.ts';

const log = createLogger('access-test', 'silent');
const ADMIN = 'test-admin-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('access through the gateway', () => {
  let redis: RedisHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let prefix: string;
  let metadata: RunningMetadataService;
  let databaseUrl: string;
  const tokens: Record<string, string> = {};
  const jobs: Record<string, JobSummary> = {};

  /** A job created as the import-service would, on behalf of `owner`. */
  async function createJob(owner: string): Promise<JobSummary> {
    const res = await fetch(`${metadata.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(TEST_INTERNAL_TOKEN) },
      body: JSON.stringify({ folder_id: 'folderAbcdefghij', folder_name: `${owner}'s`, destination: 'local', batch_size: 10, owner }),
    });
    assert.equal(res.status, 201);
    return (await res.json()) as JobSummary;
  }

  async function gateway(extra: Record<string, string> = {}) {
    const config = loadGatewayConfig({
      LOG_LEVEL: 'silent',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
      ADMIN_TOKEN: ADMIN,
      METADATA_SERVICE_URL: metadata.url,
      AUTH_CACHE_TTL_MS: '0',
      ...extra,
    });
    return startGateway(config, { port: 0, log });
  }

  before(async () => {
    redis = await findOrStartRedis();
    dir = await tempDir('access');
    prefix = uniqueName('access');
    databaseUrl = `file:${join(dir.path, 'access.db')}`;
    metadata = await startMetadataService({ databaseUrl, port: 0, log, redisUrl: redis.url, queuePrefix: prefix, internalToken: TEST_INTERNAL_TOKEN });
    const db = await openDb(databaseUrl);
    try {
      for (const [name, admin] of [['alice', false], ['bob', false], ['ops', true]] as const) tokens[name] = (await createToken(db, name, admin)).token;
    } finally {
      await db.close();
    }
    jobs.alice = await createJob('alice');
    jobs.bob = await createJob('bob');
  });
  after(async () => {
    await metadata?.close();
    await deletePrefix(redis.url, prefix);
    await redis?.stop();
    await dir?.cleanup();
  });

  it('a token sees its own jobs only; another token\'s job is a 404 on every job route; admins see all', async () => {
    const gw = await gateway();
    try {
      const list = async (token: string) => ((await (await fetch(`${gw.url}/api/import/jobs`, { headers: bearer(token) })).json()) as JobListResponse);
      const alice = await list(tokens.alice!);
      assert.deepEqual(alice.jobs.map((j) => j.job_id), [jobs.alice!.job_id]);
      assert.equal(alice.total, 1);
      assert.equal(alice.jobs[0]!.owner, 'alice');
      for (const admin of [ADMIN, tokens.ops!]) assert.deepEqual(new Set((await list(admin)).jobs.map((j) => j.job_id)), new Set([jobs.alice!.job_id, jobs.bob!.job_id]));

      for (const path of [`/api/import/status/${jobs.bob!.job_id}`, `/api/import/jobs/${jobs.bob!.job_id}/files`]) {
        const res = await fetch(`${gw.url}${path}`, { headers: bearer(tokens.alice!) });
        assert.equal(res.status, 404, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'job_not_found');
        assert.equal((await fetch(`${gw.url}${path}`, { headers: bearer(tokens.bob!) })).status, 200, path);
        assert.equal((await fetch(`${gw.url}${path}`, { headers: bearer(ADMIN) })).status, 200, path);
      }
      // The status answer is cached per job: a cached answer is still checked against its owner.
      assert.equal((await fetch(`${gw.url}/api/import/status/${jobs.bob!.job_id}`, { headers: bearer(tokens.alice!) })).status, 404);
      for (const headers of [{}, bearer('dit_made-up-token-0000000000000000'), { authorization: tokens.alice! }]) {
        const res = await fetch(`${gw.url}/api/import/jobs`, { headers });
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
    } finally {
      await gw.close();
    }
  });

  it('a revoked token is refused at once when lookups are not cached, and within the TTL when they are', async () => {
    const db = await openDb(databaseUrl);
    const { token } = await createToken(db, 'carol', false);
    const gw = await gateway();
    const cached = await gateway({ AUTH_CACHE_TTL_MS: '300' });
    try {
      for (const g of [gw, cached]) assert.equal((await fetch(`${g.url}/api/import/jobs`, { headers: bearer(token) })).status, 200);
      await revokeToken(db, 'carol');
      assert.equal((await fetch(`${gw.url}/api/import/jobs`, { headers: bearer(token) })).status, 401);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await fetch(`${cached.url}/api/import/jobs`, { headers: bearer(token) })).status, 401);
    } finally {
      await gw.close();
      await cached.close();
      await db.close();
    }
  });

  it('each token has its own budget: past it a 429 with Retry-After, shared by gateway replicas', async () => {
    // Budgets live in Redis under the prefix: a fresh one, so the requests of the tests above do not count.
    const limits = { RATE_LIMIT_PER_MINUTE: '5', QUEUE_PREFIX: `${prefix}-rl` };
    const one = await gateway(limits);
    const two = await gateway(limits);
    try {
      const get = (g: { url: string }, token: string) => fetch(`${g.url}/api/import/jobs`, { headers: bearer(token) });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get(i % 2 ? two : one, tokens.alice!)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
      const refused = await get(one, tokens.alice!);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1 && Number(refused.headers.get('retry-after')) <= 60);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limited');
      assert.equal((await get(one, tokens.bob!)).status, 200, 'another token has its own budget');
      // Bad tokens are budgeted per client address.
      const bad = [];
      for (let i = 0; i < 6; i++) bad.push((await fetch(`${one.url}/api/import/jobs`, { headers: bearer(`dit_guess-${i}-000000000000000000000`) })).status);
      assert.deepEqual(bad, [401, 401, 401, 401, 401, 429]);
    } finally {
      await one.close();
      await two.close();
      await deletePrefix(redis.url, limits.QUEUE_PREFIX);
    }
  });

  it('cancel and retry act on the caller\'s own jobs only', async () => {
    const gw = await gateway();
    try {
      const job = await createJob('bob');
      const post = (path: string, token: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: bearer(token) });
      const foreign = await post(`/api/import/jobs/${job.job_id}/cancel`, tokens.alice!);
      assert.equal(foreign.status, 404);
      assert.equal((await post(`/api/import/jobs/${job.job_id}/retry`, tokens.alice!)).status, 404);
      const own = await post(`/api/import/jobs/${job.job_id}/cancel`, tokens.bob!);
      assert.equal(own.status, 200);
      assert.equal(((await own.json()) as JobSummary).status, 'cancelled');
      const retry = await post(`/api/import/jobs/${job.job_id}/retry`, tokens.bob!);
      assert.equal(retry.status, 409);
    } finally {
      await gw.close();
    }
  });

  it('the internal services refuse callers without INTERNAL_TOKEN (but answer /health)', async () => {
    for (const headers of [{}, bearer('not-the-internal-token-0000000000000000'), bearer(ADMIN)]) {
      const res = await fetch(`${metadata.url}/jobs`, { headers });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unauthorized');
    }
    assert.equal((await fetch(`${metadata.url}/jobs`, { headers: bearer(TEST_INTERNAL_TOKEN) })).status, 200);
    assert.equal((await fetch(`${metadata.url}/health`)).status, 200);
    assert.equal((await fetch(`${metadata.url}/metrics`)).status, 401);
  });
});

describe('the activity log through the gateway', () => {
  let redis: RedisHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let prefix: string;
  let metadata: RunningMetadataService;

  before(async () => {
    redis = await findOrStartRedis();
    dir = await tempDir('activity');
    prefix = uniqueName('activity');
    metadata = await startMetadataService({ databaseUrl: `file:${join(dir.path, 'a.db')}`, port: 0, log, redisUrl: redis.url, queuePrefix: prefix, internalToken: TEST_INTERNAL_TOKEN });
  });
  after(async () => {
    await metadata?.close();
    await deletePrefix(redis.url, prefix);
    await redis?.stop();
    await dir?.cleanup();
  });

  it('records who started, paused, resumed and cancelled a job; a user sees its own entries, an admin all', async () => {
    const db = await openDb(`file:${join(dir.path, 'a.db')}`);
    const dana = (await createToken(db, 'dana', false)).token;
    const erin = (await createToken(db, 'erin', false)).token;
    await db.close();
    const gw = await startGateway(
      loadGatewayConfig({ LOG_LEVEL: 'silent', REDIS_URL: redis.url, QUEUE_PREFIX: prefix, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, ADMIN_TOKEN: ADMIN, METADATA_SERVICE_URL: metadata.url }),
      { port: 0, log },
    );
    try {
      const created = await fetch(`${metadata.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(TEST_INTERNAL_TOKEN) },
        body: JSON.stringify({ folder_id: 'folderAbcdefghij', folder_name: 'Dana photos', destination: 'local', batch_size: 10, owner: 'dana' }),
      });
      const job = (await created.json()) as JobSummary;
      for (const action of ['pause', 'resume', 'cancel']) {
        assert.equal((await fetch(`${gw.url}/api/import/jobs/${job.job_id}/${action}`, { method: 'POST', headers: bearer(dana) })).status, 200, action);
      }
      const list = async (token: string) =>
        ((await (await fetch(`${gw.url}/api/activity?per_page=10`, { headers: bearer(token) })).json()) as { activity: Array<{ actor: string; action: string; job_id: string }> }).activity;
      const mine = await list(dana);
      assert.deepEqual(mine.map((a) => [a.actor, a.action]), [['dana', 'job.cancel'], ['dana', 'job.resume'], ['dana', 'job.pause'], ['dana', 'import.started']]);
      assert.ok(mine.every((a) => a.job_id === job.job_id));
      assert.deepEqual(await list(erin), [], 'another token sees none of it');
      assert.equal((await list(ADMIN)).length, 4);
      const page = (await (await fetch(`${gw.url}/api/activity?per_page=2`, { headers: bearer(dana) })).json()) as { next_cursor: string };
      const next = (await (await fetch(`${gw.url}/api/activity?per_page=2&cursor=${page.next_cursor}`, { headers: bearer(dana) })).json()) as { activity: Array<{ action: string }> };
      assert.deepEqual(next.activity.map((a) => a.action), ['job.pause', 'import.started']);
    } finally {
      await gw.close();
    }
  });
});
