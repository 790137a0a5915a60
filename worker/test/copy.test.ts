import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TEST_INTERNAL_TOKEN, waitFor } from '@drive-import/testing';
import { bucketObjects, createJob, enqueue, jobFiles, setup, sharedRedis, waitForJob, type TestEnv } from './support.ts';

after(async () => (await sharedRedis()).stop());

/** Every listed file is in the bucket under its key with Drive's md5, and nothing else is. */
async function assertAllStored(env: TestEnv, files: Array<{ storage_key: string; md5: string | null }>, except = new Set<string>()) {
  const objects = await bucketObjects(env);
  const wanted = files.filter((f) => !except.has(f.storage_key));
  assert.equal(objects.size, wanted.length, 'one object per stored file, nothing else');
  for (const f of wanted) assert.equal(objects.get(f.storage_key), f.md5, `bytes of ${f.storage_key}`);
}

test('a job of several batches: every file copied with Drive md5, job completed, one download per file', async () => {
  const env = await setup({ tree: { files: 45, depth: 2, seed: 11, imageBytes: 3000 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 10 });
    assert.equal(batches.length, 5);
    await env.startWorker();
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed');
    assert.equal(job.processed, 45);
    assert.equal(job.failed, 0);
    assert.equal(job.bytes_done, files.reduce((n, f) => n + (f.size ?? 0), 0));
    await assertAllStored(env, files);
    const rows = await jobFiles(env, jobId);
    assert.ok(rows.every((r) => r.status === 'stored' && r.attempts === 1 && r.md5 !== null), 'every row stored after one try');
    const downloads = env.emulator.stats().downloads;
    assert.deepEqual(new Set(Object.values(downloads)), new Set([1]));
    assert.equal(Object.keys(downloads).length, 45);
  } finally {
    await env.cleanup();
  }
});

test('10% 500/503 and a burst of 429s: still every file, exactly once', async () => {
  const env = await setup({
    tree: { files: 60, depth: 1, seed: 12, imageBytes: 2000 },
    faults: { errorRate: { media: 0.1 }, errorStatuses: [500, 503], failNext: { count: 12, status: 429, reason: 'rateLimitExceeded', kind: 'media' }, seed: 3 },
  });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 20 });
    const worker = await env.startWorker({ FILE_MAX_ATTEMPTS: '8' });
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.processed, 60);
    await assertAllStored(env, files);
    const stats = env.emulator.stats();
    assert.ok((stats.byStatus['429'] ?? 0) >= 12, 'the 429 burst was served');
    assert.ok((stats.byStatus['500'] ?? 0) + (stats.byStatus['503'] ?? 0) > 0, 'some 5xx were served');
    const rows = await jobFiles(env, jobId);
    assert.ok(rows.some((r) => r.attempts > 1), 'some files needed more than one try');
    // Rate limits are visible in the metrics, by reason.
    const metrics = await (await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })).text();
    // Every series carries the worker's id (hostname-pid), so each replica's share stays visible.
    assert.match(metrics, /drive_import_worker_drive_rate_limited_total\{reason="rateLimitExceeded",worker_id="[^"]+-\d+(-\d+)?"\} \d+/);
    assert.match(metrics, /drive_import_worker_files_total\{status="stored",worker_id="[^"]+"\} 60/);
  } finally {
    await env.cleanup();
  }
});

test('a permanently forbidden file fails with its reason; the others are stored; job completed_with_errors', async () => {
  const env = await setup({ tree: { files: 12, depth: 0, seed: 13, imageBytes: 2000 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 100 });
    const bad = files[4]!;
    const gone = files[7]!;
    env.emulator.setFaults({
      permanent: {
        [bad.drive_id]: { status: 403, reason: 'cannotDownloadAbusiveFile', message: 'This file has been identified as malware or spam', kind: 'media' },
        [gone.drive_id]: { status: 404, reason: 'notFound', message: 'File not found', kind: 'media' },
      },
    });
    await env.startWorker();
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed_with_errors');
    assert.equal(job.failed, 2);
    assert.equal(job.processed, 10);
    const rows = new Map((await jobFiles(env, jobId)).map((r) => [r.id, r]));
    assert.equal(rows.get(bad.drive_id)!.status, 'failed');
    assert.match(rows.get(bad.drive_id)!.error ?? '', /Drive answered 403 cannotDownloadAbusiveFile: This file has been identified as malware/);
    assert.equal(rows.get(bad.drive_id)!.attempts, 1, 'not retried');
    assert.match(rows.get(gone.drive_id)!.error ?? '', /Drive answered 404 notFound/);
    await assertAllStored(env, files, new Set([bad.storage_key, gone.storage_key]));
  } finally {
    await env.cleanup();
  }
});

test('a corrupted first download is retried and the correct bytes are stored', async () => {
  const env = await setup({ tree: { files: 8, depth: 0, seed: 14, imageBytes: 5000 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 100 });
    const victims = [files[1]!.drive_id, files[5]!.drive_id];
    env.emulator.setFaults({ corruptFirstDownloadOf: victims });
    await env.startWorker();
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed');
    assert.equal(env.emulator.stats().corrupted, 2);
    await assertAllStored(env, files);
    const rows = new Map((await jobFiles(env, jobId)).map((r) => [r.id, r]));
    for (const id of victims) assert.equal(rows.get(id)!.attempts, 2);
  } finally {
    await env.cleanup();
  }
});

test('a body that stalls half way is cut by the read timeout and the file retried', async () => {
  const env = await setup({ tree: { files: 6, depth: 0, seed: 16, imageBytes: 60_000 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 100 });
    const victim = files[2]!.drive_id;
    env.emulator.setFaults({ stallFirstDownloadOf: [victim] });
    // The try itself may last 5 minutes: only the silence of the body ends it this soon.
    await env.startWorker({ DRIVE_READ_TIMEOUT_MS: '1000', FILE_ATTEMPT_TIMEOUT_MS: '300000' });
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    await assertAllStored(env, files);
    const rows = new Map((await jobFiles(env, jobId)).map((r) => [r.id, r]));
    assert.equal(rows.get(victim)!.attempts, 2);
  } finally {
    await env.cleanup();
  }
});

test('connections dropped mid-body are retried', async () => {
  const env = await setup({ tree: { files: 30, depth: 0, seed: 15, imageBytes: 60_000 }, faults: { dropConnectionRate: 0.15, seed: 7 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 100 });
    await env.startWorker({ FILE_MAX_ATTEMPTS: '10' });
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.ok(env.emulator.stats().dropped > 0, 'some bodies were cut');
    await assertAllStored(env, files);
  } finally {
    await env.cleanup();
  }
});

test('a destination this worker has no settings for fails its files with a clear reason', async () => {
  const env = await setup({ tree: { files: 3, depth: 0, seed: 16 } });
  try {
    const { jobId, batches } = await createJob(env, { batchSize: 100, destination: 'azure' });
    await env.startWorker();
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed_with_errors');
    const rows = await jobFiles(env, jobId);
    assert.ok(rows.every((r) => r.status === 'failed' && /'azure' is not configured/.test(r.error ?? '')), JSON.stringify(rows[0]));
    assert.equal(env.emulator.stats().media, 0, 'nothing downloaded');
  } finally {
    await env.cleanup();
  }
});

test('metadata-service down at results time: the batch retries later and re-posts without downloading again', async () => {
  const env = await setup({ tree: { files: 20, depth: 0, seed: 17, imageBytes: 2000 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 10 });
    // Slow downloads, so the metadata-service can go away after the worker fetched both batches.
    env.emulator.setFaults({ latencyMs: 1500 });
    await env.startWorker();
    await enqueue(env, batches);
    await waitFor('both batches fetched and downloading', async () => {
      const states = await Promise.all(batches.map(async (b) => (await env.queue.getJob(b.batch_id))?.getState()));
      return states.every((s) => s === 'active') && env.emulator.stats().media >= 1;
    }, 30_000, 20);
    await env.stopMetadata();
    // Both batches copied everything and saved their results, then failed to post.
    await waitFor('both batches to fail their first post', async () => {
      const jobs = await Promise.all(batches.map((b) => env.queue.getJob(b.batch_id)));
      return jobs.every((j) => j && j.attemptsMade >= 1 && Array.isArray((j.data as { results?: unknown }).results));
    }, 30_000, 100);
    assert.equal(env.emulator.stats().media, 20);
    await env.startMetadata();
    const job = await waitForJob(env, jobId, 60_000);
    assert.equal(job.status, 'completed');
    assert.equal(job.processed, 20);
    const downloads = env.emulator.stats().downloads;
    assert.equal(Object.keys(downloads).length, 20);
    assert.ok(Object.values(downloads).every((n) => n === 1), 'one download per file');
    await assertAllStored(env, files);
  } finally {
    await env.cleanup();
  }
});

test('health reports redis and the metadata-service', async () => {
  const env = await setup({ tree: { files: 1, depth: 0, seed: 18 } });
  try {
    const worker = await env.startWorker();
    const ok = await fetch(`${worker.url}/health`);
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { checks: unknown }).checks, { redis: 'ok', 'metadata-service': 'ok' });
    await env.stopMetadata();
    const down = await fetch(`${worker.url}/health`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { checks: Record<string, string> };
    assert.equal(body.checks.redis, 'ok');
    assert.match(body.checks['metadata-service']!, /unreachable/);
  } finally {
    await env.cleanup();
  }
});
