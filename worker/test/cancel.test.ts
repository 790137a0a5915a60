// A job cancelled while a worker copies one of its batches: the worker takes no new file of it,
// reports what it copied, and every object in the store has its row (and no row claims a missing one).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '@drive-import/testing';
import { bucketObjects, createJob, enqueue, jobFiles, metadataClient, setup, sharedRedis, waitForJob } from './support.ts';

after(async () => (await sharedRedis()).stop());

test('cancel mid-batch: the running batch stops taking files; objects and rows agree', async () => {
  // 60 files in ONE batch, 2 at a time, 100 ms each: about 3 s of copying to cancel in the middle of.
  const env = await setup({ tree: { files: 60, depth: 0, seed: 21, imageBytes: 1000 }, faults: { latencyMs: { media: 100 } } });
  try {
    const { jobId, batches } = await createJob(env, { batchSize: 100 });
    assert.equal(batches.length, 1);
    await env.startWorker({ WORKER_CONCURRENCY: '2' });
    await enqueue(env, batches);
    await waitFor('some files copied', async () => (await bucketObjects(env)).size >= 6, 30_000, 50);
    const metadata = metadataClient(env);
    const cancelled = (await metadata.call('POST', `/jobs/${jobId}/cancel`)) as { status: string };
    assert.equal(cancelled.status, 'cancelled');
    // The batch ends (its results posted) well before all 60 files could have been copied.
    const rows = await waitFor(
      'the batch to report',
      async () => {
        const files = await jobFiles(env, jobId);
        return files.some((f) => f.status === 'stored') && (await env.queue.getActiveCount()) === 0 ? files : null;
      },
      30_000,
      100,
    );
    const storedRows = rows.filter((r) => r.status === 'stored');
    const objects = await bucketObjects(env);
    assert.ok(storedRows.length < 60, `stopped early: ${storedRows.length} of 60 stored`);
    assert.deepEqual(new Set(objects.keys()), new Set(storedRows.map((r) => r.storage_key)), 'every object has its row and every stored row its object');
    assert.ok(rows.filter((r) => r.status === 'pending').length > 0, 'the rest stays pending, uncopied');
  } finally {
    await env.cleanup();
  }
});

test('pause: a paused job\'s batches wait without spending attempts; resume copies them all', async () => {
  const env = await setup({ tree: { files: 30, depth: 0, seed: 22, imageBytes: 1000 } });
  try {
    const { jobId, batches } = await createJob(env, { batchSize: 10 });
    const metadata = metadataClient(env);
    assert.equal(((await metadata.call('POST', `/jobs/${jobId}/pause`)) as { status: string }).status, 'paused');
    await env.startWorker();
    await enqueue(env, batches);
    await waitFor('the batches to be put back to wait', async () => (await env.queue.getDelayedCount()) === 3, 15_000, 50);
    assert.equal((await bucketObjects(env)).size, 0, 'nothing copied while paused');
    const delayed = await env.queue.getDelayed();
    assert.ok(delayed.every((j) => j.attemptsMade === 0), 'no attempt spent');
    await metadata.call('POST', `/jobs/${jobId}/resume`);
    const job = await waitForJob(env, jobId, 30_000);
    assert.equal(job.status, 'completed');
    assert.equal((await bucketObjects(env)).size, 30);
  } finally {
    await env.cleanup();
  }
});
