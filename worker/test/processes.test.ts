/** Workers as real processes: global pacing across two of them, a SIGKILLed one, a SIGTERMed one. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '@drive-import/testing';
import { bucketObjects, createJob, enqueue, jobFiles, setup, sharedRedis, waitForJob } from './support.ts';

after(async () => (await sharedRedis()).stop());

test('two worker processes share DRIVE_MAX_REQUESTS_PER_SECOND: Drive sees about R req/s in total', async () => {
  const R = 25;
  const env = await setup({ tree: { files: 150, depth: 1, seed: 21, imageBytes: 1500 } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 10 });
    const limits = { DRIVE_MAX_REQUESTS_PER_SECOND: String(R), WORKER_CONCURRENCY: '16' };
    await Promise.all([env.spawnWorker(limits), env.spawnWorker(limits)]);
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId, 60_000);
    assert.equal(job.status, 'completed');
    const stats = env.emulator.stats();
    assert.equal(stats.media, files.length);
    // Arrival times are taken in this (busy) test process, whose stalls bunch arrivals a little: the
    // 3 s window checks the sustained rate tightly, the 1 s window bounds bursts. Without a shared
    // limit the two processes would reach about 2R.
    const peak = stats.maxInWindow(1000, 'media');
    const peak3 = stats.maxInWindow(3000, 'media');
    assert.ok(peak3 <= 3 * R * 1.1, `Drive saw ${peak3} downloads within 3 s; limit ${3 * R}`);
    assert.ok(peak <= R * 1.3, `Drive saw ${peak} downloads within one second; limit ${R}`);
    assert.ok(peak >= R * 0.6, `only ${peak}/s: the limit should be used`);
    // Both processes did part of the work (the pace is shared, not one process hogging it).
    const rows = await jobFiles(env, jobId);
    assert.equal(rows.filter((r) => r.status === 'stored').length, files.length);
  } finally {
    await env.cleanup();
  }
});

test('a worker SIGKILLed mid-batch: another takes the batch over; every file once in the DB, one object per key', async () => {
  const env = await setup({ tree: { files: 40, depth: 0, seed: 22, imageBytes: 2000 }, faults: { latencyMs: { media: 150 } } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 40 });
    const doomed = await env.spawnWorker({ WORKER_CONCURRENCY: '2', WORKER_STALLED_INTERVAL_MS: '2000' });
    await enqueue(env, batches);
    await waitFor('the batch to be half copied', async () => env.emulator.stats().media >= 15, 30_000, 20);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const before = env.emulator.stats().media;
    assert.ok(before < files.length, 'killed before the batch was done');
    await env.spawnWorker({ WORKER_CONCURRENCY: '8', WORKER_STALLED_INTERVAL_MS: '2000' });
    const job = await waitForJob(env, jobId, 60_000);
    assert.equal(job.status, 'completed');
    assert.equal(job.total, files.length);
    assert.equal(job.processed, files.length);
    const rows = await jobFiles(env, jobId);
    assert.equal(rows.length, files.length);
    assert.equal(new Set(rows.map((r) => r.id)).size, files.length, 'each file once in the DB');
    assert.ok(rows.every((r) => r.status === 'stored'));
    const objects = await bucketObjects(env);
    assert.equal(objects.size, files.length, 'one object per key, no leftovers');
    for (const f of files) assert.equal(objects.get(f.storage_key), f.md5);
    // Files already stored by the dead worker were recognised by their md5, not downloaded again.
    assert.ok(env.emulator.stats().media < before + files.length, 'the take-over skipped files already stored');
  } finally {
    await env.cleanup();
  }
});

test('a batch whose worker is SIGKILLed twice is taken over twice and finished by a third (BullMQ gave it up before)', async () => {
  const env = await setup({ tree: { files: 40, depth: 0, seed: 24, imageBytes: 2000 }, faults: { latencyMs: { media: 150 } } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 40 });
    const slow = { WORKER_CONCURRENCY: '2', WORKER_MIN_CONCURRENCY: '2', WORKER_STALLED_INTERVAL_MS: '1500' };
    await enqueue(env, batches);
    for (let kill = 1; kill <= 2; kill++) {
      const before = env.emulator.stats().media;
      const doomed = await env.spawnWorker(slow);
      await waitFor(`worker ${kill} to copy part of the batch`, async () => env.emulator.stats().media >= before + 4, 30_000, 20);
      doomed.child.kill('SIGKILL');
      await doomed.exited;
    }
    assert.ok(env.emulator.stats().media < files.length, 'both kills came before the batch was done');
    await env.spawnWorker({ WORKER_CONCURRENCY: '8', WORKER_STALLED_INTERVAL_MS: '1500' });
    const job = await waitForJob(env, jobId, 60_000);
    assert.equal(job.status, 'completed');
    assert.equal(job.processed, files.length);
    const rows = await jobFiles(env, jobId);
    assert.equal(rows.length, files.length);
    assert.ok(rows.every((r) => r.status === 'stored'));
  } finally {
    await env.cleanup();
  }
});

test('SIGTERM: the active batch finishes, the process exits 0, nothing is lost', async () => {
  const env = await setup({ tree: { files: 40, depth: 0, seed: 23, imageBytes: 2000 }, faults: { latencyMs: { media: 100 } } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 20 });
    const w = await env.spawnWorker({ WORKER_CONCURRENCY: '4', WORKER_BATCH_CONCURRENCY: '1' });
    await enqueue(env, batches);
    await waitFor('copying to start', async () => env.emulator.stats().media >= 3, 30_000, 20);
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    assert.equal(exit.code, 0, w.output());
    // The active batch was finished and posted; the other one is still waiting in the queue.
    const done = await env.queue.getJob(batches[0]!.batch_id);
    assert.equal(await done!.getState(), 'completed');
    assert.equal(await (await env.queue.getJob(batches[1]!.batch_id))!.getState(), 'waiting');
    await env.spawnWorker();
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed');
    assert.equal(job.processed, files.length);
    assert.ok(Object.values(env.emulator.stats().downloads).every((n) => n === 1), 'no file downloaded twice');
  } finally {
    await env.cleanup();
  }
});

test('SIGTERM past the grace period: the active batch is released to the queue and finished by another worker', async () => {
  const env = await setup({ tree: { files: 30, depth: 0, seed: 24, imageBytes: 2000 }, faults: { latencyMs: { media: 300 } } });
  try {
    const { jobId, batches, files } = await createJob(env, { batchSize: 30 });
    const w = await env.spawnWorker({ WORKER_CONCURRENCY: '2', WORKER_SHUTDOWN_GRACE_MS: '200' });
    await enqueue(env, batches);
    await waitFor('copying to start', async () => env.emulator.stats().media >= 2, 30_000, 20);
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    assert.equal(exit.code, 0, w.output());
    const released = await env.queue.getJob(batches[0]!.batch_id);
    assert.ok(['delayed', 'waiting'].includes(await released!.getState()), 'released, not failed');
    assert.equal(released!.attemptsMade, 0, 'the release did not spend an attempt');
    await env.spawnWorker();
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed');
    const objects = await bucketObjects(env);
    assert.equal(objects.size, files.length);
    for (const f of files) assert.equal(objects.get(f.storage_key), f.md5);
  } finally {
    await env.cleanup();
  }
});
