// Retry and cancel: the failed files of a finished job go into new batches and the job completes
// again; a cancelled job's queued batches leave the queue and hand a worker nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJob, failedResult, files, freshService, stored } from './support.ts';

describe('retry and cancel', () => {
  it('retry: only the failed files are queued again, in new batches; the job completes when they are stored', async () => {
    const svc = await freshService();
    try {
      const id = await createJob(svc, 10);
      const all = files(0, 25);
      await svc.request('POST', `/jobs/${id}/files`, { files: all });
      await svc.request('POST', `/jobs/${id}/listing-complete`);
      // b0: 10 stored; b1: 4 stored, 6 failed; b2: 5 failed.
      await svc.request('POST', `/batches/${id}-b0/results`, { job_id: id, results: all.slice(0, 10).map(stored) });
      await svc.request('POST', `/batches/${id}-b1/results`, { job_id: id, results: [...all.slice(10, 14).map(stored), ...all.slice(14, 20).map((f) => failedResult(f))] });
      let job = (await svc.request('POST', `/batches/${id}-b2/results`, { job_id: id, results: all.slice(20).map((f) => failedResult(f)) })).body;
      assert.equal(job.status, 'completed_with_errors');
      assert.equal(job.failed, 11);

      const retried = await svc.request('POST', `/jobs/${id}/retry`);
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      assert.equal(retried.body.status, 'processing');
      assert.equal(retried.body.failed, 0);
      assert.equal(retried.body.finished_at, null);
      // 11 failed files, batch size 10: two new batches, b3 and b4, on the queue.
      assert.deepEqual((await svc.queuedBatchIds(id)).slice(-2), [`${id}-b3`, `${id}-b4`]);
      const b3 = (await svc.request('GET', `/batches/${id}-b3`)).body;
      const b4 = (await svc.request('GET', `/batches/${id}-b4`)).body;
      const again = [...b3.files, ...b4.files].map((f: { drive_id: string }) => f.drive_id).sort();
      assert.deepEqual(again, all.slice(14).map((f) => f.drive_id).sort(), 'exactly the failed files');
      assert.equal((await svc.request('GET', `/jobs/${id}/files?status=failed`)).body.total, 0);

      await svc.request('POST', `/batches/${id}-b3/results`, { job_id: id, results: all.slice(14).filter((f) => b3.files.some((x: { drive_id: string }) => x.drive_id === f.drive_id)).map(stored) });
      job = (await svc.request('POST', `/batches/${id}-b4/results`, { job_id: id, results: all.slice(14).filter((f) => b4.files.some((x: { drive_id: string }) => x.drive_id === f.drive_id)).map(stored) })).body;
      assert.equal(job.status, 'completed');
      assert.equal(job.processed, 25);
      assert.equal(job.failed, 0);

      const refused = await svc.request('POST', `/jobs/${id}/retry`);
      assert.equal(refused.status, 409, 'a completed job has nothing to retry');
      assert.equal(refused.body.error.code, 'job_not_retryable');
    } finally {
      await svc.close();
    }
  });

  it('cancel: the job ends cancelled, its waiting batches leave the queue and hand out no file; cancelling twice is fine', async () => {
    const svc = await freshService();
    try {
      const id = await createJob(svc, 10);
      const all = files(0, 30);
      await svc.request('POST', `/jobs/${id}/files`, { files: all });
      await svc.request('POST', `/batches/${id}-b0/results`, { job_id: id, results: all.slice(0, 10).map(stored) });
      assert.equal((await svc.queuedBatchIds(id)).length, 3);

      const cancelled = await svc.request('POST', `/jobs/${id}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'cancelled');
      const waiting = await svc.copyQueue.getJobs(['waiting', 'delayed']);
      // b0 is done (nobody consumed it here; a worker would have): only the unfinished ones had to go.
      assert.deepEqual(waiting.filter((j) => j.data.job_id === id).map((j) => j.id), [`${id}-b0`]);
      assert.deepEqual((await svc.request('GET', `/batches/${id}-b1`)).body.files, []);
      // What a worker had copied before it learnt of the cancel still gets its row.
      const late = (await svc.request('POST', `/batches/${id}-b1/results`, { job_id: id, results: all.slice(10, 12).map(stored) })).body;
      assert.equal(late.status, 'cancelled');
      assert.equal(late.processed, 12);
      assert.equal((await svc.request('POST', `/jobs/${id}/cancel`)).status, 200);
      assert.equal((await svc.request('POST', `/jobs/${id}/retry`)).body.error.code, 'job_not_retryable');
    } finally {
      await svc.close();
    }
  });

  it('a finished job cannot be cancelled; an unknown one is a 404', async () => {
    const svc = await freshService();
    try {
      const id = await createJob(svc, 10);
      await svc.request('POST', `/jobs/${id}/listing-complete`);
      const res = await svc.request('POST', `/jobs/${id}/cancel`);
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'job_finished');
      assert.equal((await svc.request('POST', '/jobs/6f1c1f4e-8a0b-4b5e-9a53-0d2b7c1e9f00/cancel')).status, 404);
    } finally {
      await svc.close();
    }
  });
});

describe('pause and resume', () => {
  it('a paused job hands its batches out as paused (no files) and keeps its status through the listing; resume hands them out again', async () => {
    const svc = await freshService();
    try {
      const id = await createJob(svc, 10);
      const all = files(0, 25);
      await svc.request('POST', `/jobs/${id}/files`, { files: all });
      const paused = await svc.request('POST', `/jobs/${id}/pause`);
      assert.equal(paused.status, 200);
      assert.equal(paused.body.status, 'paused');
      const b0 = (await svc.request('GET', `/batches/${id}-b0`)).body;
      assert.equal(b0.paused, true);
      assert.deepEqual(b0.files, []);
      // The listing goes on while paused, and completing it leaves the job paused.
      assert.equal((await svc.request('POST', `/jobs/${id}/listing-complete`)).body.job.status, 'paused');
      assert.equal((await svc.request('POST', `/jobs/${id}/pause`)).status, 200, 'pausing twice is fine');

      const resumed = await svc.request('POST', `/jobs/${id}/resume`);
      assert.equal(resumed.body.status, 'processing');
      const again = (await svc.request('GET', `/batches/${id}-b0`)).body;
      assert.equal(again.paused, undefined);
      assert.equal(again.files.length, 10);
      for (const b of [0, 1, 2]) {
        const batch = (await svc.request('GET', `/batches/${id}-b${b}`)).body;
        await svc.request('POST', `/batches/${id}-b${b}/results`, { job_id: id, results: batch.files.map(stored) });
      }
      assert.equal((await svc.request('GET', `/jobs/${id}`)).body.status, 'completed');
      assert.equal((await svc.request('POST', `/jobs/${id}/pause`)).status, 409, 'a finished job cannot be paused');
    } finally {
      await svc.close();
    }
  });
});

describe('activity log', () => {
  it('a job\'s start, its end (by the system) and a retry by a token are recorded, newest first', async () => {
    const svc = await freshService();
    try {
      const res = await svc.request('POST', '/jobs', { folder_id: 'folderAbcdefghij0123', folder_name: 'Photos', destination: 's3', batch_size: 10, owner: 'frank' });
      const id = res.body.job_id as string;
      const all = files(0, 3);
      await svc.request('POST', `/jobs/${id}/files`, { files: all });
      await svc.request('POST', `/jobs/${id}/listing-complete`);
      await svc.request('POST', `/batches/${id}-b0/results`, { job_id: id, results: all.map((f) => failedResult(f)) });
      const log = (await svc.request('GET', '/activity')).body.activity as Array<{ actor: string; action: string; detail: string | null }>;
      assert.deepEqual(log.map((a) => [a.actor, a.action, a.detail]), [
        ['system', 'import.finished', 'completed_with_errors'],
        ['frank', 'import.started', 'Photos'],
      ]);
    } finally {
      await svc.close();
    }
  });
});
