/** The served service, as the other services and the in-process starter use it. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { closeQueue, createLogger, JobSummary, QUEUES, redisConnection } from '@drive-import/common';
import { deletePrefix, findOrStartRedis, tempDir, uniqueName, waitFor } from '@drive-import/testing';
import { openDb, startMetadataService } from '../src/index.ts';
import { files } from './support.ts';

test('startMetadataService migrates a new database, serves, and keeps data across restarts', async () => {
  const dir = await tempDir('metadata-service');
  const databaseUrl = `file:${join(dir.path, 'data', 'svc.db')}`;
  const log = createLogger('metadata-test', 'silent');
  const redis = await findOrStartRedis();
  const queue = { redisUrl: redis.url, queuePrefix: uniqueName('meta-svc') };
  try {
    const first = await startMetadataService({ databaseUrl, port: 0, log, ...queue });
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${first.url}/health`);
    assert.equal(health.status, 200);
    const created = await fetch(`${first.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ folder_id: 'folderAbcdefghij', folder_name: 'x', destination: 'local', batch_size: 10 }),
    });
    assert.equal(created.status, 201);
    const job = JobSummary.parse(await created.json());
    await first.close();

    const second = await startMetadataService({ databaseUrl, port: 0, log, ...queue });
    const again = await fetch(`${second.url}/jobs/${job.job_id}`);
    assert.deepEqual(JobSummary.parse(await again.json()), job);
    await second.close();
  } finally {
    await deletePrefix(redis.url, queue.queuePrefix);
    await redis.stop();
    await dir.cleanup();
  }
});

test('a batch sealed but never enqueued (the process died between commit and enqueue) is enqueued at start-up', async () => {
  const dir = await tempDir('metadata-service');
  const databaseUrl = `file:${join(dir.path, 'svc.db')}`;
  const log = createLogger('metadata-test', 'silent');
  const redis = await findOrStartRedis();
  const queuePrefix = uniqueName('meta-sweep');
  const copyQueue = new Queue(QUEUES.copy, { connection: redisConnection(redis.url), prefix: queuePrefix });
  try {
    const first = await startMetadataService({ databaseUrl, port: 0, log, redisUrl: redis.url, queuePrefix });
    const post = (path: string, body: unknown) =>
      fetch(`${first.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const job = JobSummary.parse(await (await post('/jobs', { folder_id: 'folderAbcdefghij', folder_name: 'x', destination: 'local', batch_size: 10 })).json());
    assert.equal((await post(`/jobs/${job.job_id}/files`, { files: files(0, 20) })).status, 200);
    await first.close();
    // What a crash after the commit and before the enqueue leaves behind.
    await copyQueue.obliterate({ force: true });
    const db = await openDb(databaseUrl);
    await db.transaction((tx) => tx.batch.updateMany({ where: { jobId: job.job_id }, data: { status: 'sealed' } }));
    await db.close();

    const second = await startMetadataService({ databaseUrl, port: 0, log, redisUrl: redis.url, queuePrefix });
    try {
      const ids = await waitFor('the start-up sweep', async () => {
        const jobs = await copyQueue.getJobs(['waiting']);
        return jobs.length >= 2 ? jobs.map((j) => j.id).sort() : null;
      }, 10_000, 50);
      assert.deepEqual(ids, [`${job.job_id}-b0`, `${job.job_id}-b1`]);
    } finally {
      await second.close();
    }
  } finally {
    await copyQueue.close();
    await deletePrefix(redis.url, queuePrefix);
    await redis.stop();
    await dir.cleanup();
  }
});

test('a copy queue closed while it is still connecting leaves no unhandled rejection (closeQueue)', async () => {
  const redis = await findOrStartRedis();
  const prefix = uniqueName('meta-quick');
  try {
    for (let i = 0; i < 5; i++) {
      const queue = new Queue(QUEUES.copy, { connection: redisConnection(redis.url), prefix });
      queue.on('error', () => {});
      // Close in the window of ioredis's ready check (its first INFO): a plain close() then drops
      // the connection's listeners and BullMQ's own INFO, sent once 'ready' still fires, rejects
      // unheard ("Connection is closed."), which node:test reports as this test's failure.
      const client = (queue as unknown as { connection: { _client: { info(...args: unknown[]): Promise<string> } } }).connection._client;
      const info = client.info.bind(client);
      await new Promise<void>((resolve, reject) => {
        let first = true;
        client.info = (...args) => {
          const answer = info(...args);
          if (first) setImmediate(() => closeQueue(queue).then(resolve, reject));
          first = false;
          return answer;
        };
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await deletePrefix(redis.url, prefix);
    await redis.stop();
  }
});
