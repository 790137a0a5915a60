import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JobListResponse, JobStatusResponse, JobSummary } from '@drive-import/common';
import { sqlitePath } from '../src/migrate.ts';
import { createJob, FOLDER_ID, freshService, type TestService } from './support.ts';

describe('jobs API', () => {
  let svc: TestService;
  before(async () => {
    svc = await freshService();
  });
  after(() => svc.close());

  test('POST /jobs creates a queued job with zero counters', async () => {
    const res = await svc.request('POST', '/jobs', { folder_id: FOLDER_ID, folder_name: null, destination: 'azure', batch_size: 50 });
    assert.equal(res.status, 201);
    const job = JobSummary.parse(res.body);
    assert.equal(job.status, 'queued');
    assert.equal(job.destination, 'azure');
    assert.deepEqual([job.total, job.processed, job.failed, job.skipped, job.bytes_total, job.bytes_done], [0, 0, 0, 0, 0, 0]);
    assert.equal(job.listing_complete, false);
    assert.equal(job.started_at, null);
    const got = await svc.request('GET', `/jobs/${job.job_id}`);
    assert.deepEqual(got.body, res.body);
  });

  test('PATCH drives queued -> listing -> failed, never back from a terminal state', async () => {
    const id = await createJob(svc);
    const listing = await svc.request('PATCH', `/jobs/${id}`, { status: 'listing' });
    assert.equal(listing.status, 200);
    assert.equal(listing.body.status, 'listing');
    assert.ok(listing.body.started_at);
    const again = await svc.request('PATCH', `/jobs/${id}`, { status: 'listing' });
    assert.equal(again.body.started_at, listing.body.started_at, 'a repeated listing keeps started_at');

    const failed = await svc.request('PATCH', `/jobs/${id}`, { status: 'failed', error: 'folder vanished' });
    assert.equal(failed.body.status, 'failed');
    assert.equal(failed.body.error, 'folder vanished');
    assert.ok(failed.body.finished_at);

    const back = await svc.request('PATCH', `/jobs/${id}`, { status: 'listing' });
    assert.equal(back.status, 409);
    assert.equal(back.body.error.code, 'job_finished');
    const cancel = await svc.request('PATCH', `/jobs/${id}`, { status: 'cancelled' });
    assert.equal(cancel.status, 409);
    const same = await svc.request('PATCH', `/jobs/${id}`, { status: 'failed', error: 'folder vanished' });
    assert.equal(same.status, 200, 'asking for the state it is in is a harmless retry');
    assert.equal((await svc.request('GET', `/jobs/${id}`)).body.status, 'failed');
  });

  test('cancel sets finished_at and stops add-files', async () => {
    const id = await createJob(svc);
    const res = await svc.request('PATCH', `/jobs/${id}`, { status: 'cancelled' });
    assert.equal(res.body.status, 'cancelled');
    assert.ok(res.body.finished_at);
    const add = await svc.request('POST', `/jobs/${id}/files`, {
      files: [{ drive_id: 'abcdefghijkl', name: 'a.jpg', folder_path: '', mime_type: 'image/jpeg', size: 1, md5: null, modified_time: null, width: null, height: null, taken_at: null, storage_key: 'k/a.jpg' }],
    });
    assert.equal(add.status, 409);
    const done = await svc.request('POST', `/jobs/${id}/listing-complete`);
    assert.equal(done.status, 200);
    assert.equal(done.body.job.status, 'cancelled');
    assert.equal(done.body.batches_sealed, 0);
  });

  test('GET /jobs pages newest first', async () => {
    const fresh = await freshService();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await createJob(fresh));
        await new Promise((r) => setTimeout(r, 3)); // distinct created_at
      }
      const page = async (cursor: string | null) =>
        JobListResponse.parse((await fresh.request('GET', `/jobs?per_page=2${cursor ? `&cursor=${cursor}` : ''}`)).body);
      const p1 = await page(null);
      const p2 = await page(p1.next_cursor);
      const p3 = await page(p2.next_cursor);
      assert.equal(p1.total, 5);
      assert.deepEqual(p1.jobs.map((j) => j.job_id), [ids[4], ids[3]]);
      assert.deepEqual(p2.jobs.map((j) => j.job_id), [ids[2], ids[1]]);
      assert.deepEqual([p3.jobs.map((j) => j.job_id), p3.next_cursor], [[ids[0]], null]);
      // Jobs created while someone pages do not shift the pages after the cursor.
      await createJob(fresh);
      assert.deepEqual((await page(p1.next_cursor)).jobs.map((j) => j.job_id), [ids[2], ids[1]]);
      const defaults = (await fresh.request('GET', '/jobs')).body;
      assert.deepEqual([defaults.per_page, defaults.jobs.length, defaults.next_cursor], [50, 6, null]);
    } finally {
      await fresh.close();
    }
  });

  test('bad input answers 4xx in the error shape', async () => {
    const id = await createJob(svc);
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/jobs', '{"folder_id": ', 400, 'invalid_json'],
      ['POST', '/jobs', { folder_id: FOLDER_ID, folder_name: null, destination: 's3', batch_size: 10, extra: 1 }, 400, 'invalid_request'],
      ['POST', '/jobs', { folder_id: 'bad id!', folder_name: null, destination: 's3', batch_size: 10 }, 400, 'invalid_request'],
      ['POST', '/jobs', { folder_id: FOLDER_ID, folder_name: null, destination: 'ftp', batch_size: 10 }, 400, 'invalid_request'],
      ['POST', '/jobs', { folder_id: FOLDER_ID, folder_name: null, destination: 's3', batch_size: 0 }, 400, 'invalid_request'],
      ['PATCH', `/jobs/${id}`, { status: 'completed' }, 400, 'invalid_request'],
      ['GET', '/jobs?page=2', undefined, 400, 'invalid_request'],
      ['GET', '/jobs?cursor=abc', undefined, 400, 'invalid_request'],
      ['GET', '/jobs?per_page=1001', undefined, 400, 'invalid_request'],
      ['GET', `/jobs/${id}/files?status=lost`, undefined, 400, 'invalid_request'],
      ['GET', `/jobs/${id}/files?page=-1`, undefined, 400, 'invalid_request'],
      ['POST', `/jobs/${id}/files`, { files: [] }, 400, 'invalid_request'],
      ['GET', '/jobs/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11', undefined, 404, 'job_not_found'],
      ['GET', '/jobs/not-a-uuid', undefined, 404, 'job_not_found'],
      ['GET', '/jobs/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11/status', undefined, 404, 'job_not_found'],
      ['GET', '/jobs/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11/files', undefined, 404, 'job_not_found'],
      ['PATCH', '/jobs/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11', { status: 'listing' }, 404, 'job_not_found'],
      ['POST', '/jobs/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11/listing-complete', undefined, 404, 'job_not_found'],
      ['POST', '/batches/8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11-b0/results', { job_id: '8a1c2a52-7f4e-4c3e-9a57-2a7f3f0f9b11', results: [{ drive_id: 'abcdefghijkl', status: 'stored', attempts: 1 }] }, 404, 'job_not_found'],
      ['POST', `/batches/${id}-b7/results`, { job_id: id, results: [{ drive_id: 'abcdefghijkl', status: 'stored', attempts: 1 }] }, 404, 'batch_not_found'],
      ['POST', `/batches/${id}-b0/results`, { job_id: id, results: [{ drive_id: 'abcdefghijkl', status: 'lost', attempts: 1 }] }, 400, 'invalid_request'],
      ['GET', '/nowhere', undefined, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await svc.request(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error?.code, code, `${method} ${path}`);
      assert.equal(typeof res.body.error.message, 'string');
    }
  });

  test('GET /jobs/:id/status of a new job', async () => {
    const id = await createJob(svc);
    const res = await svc.request('GET', `/jobs/${id}/status`);
    const status = JobStatusResponse.parse(res.body);
    assert.deepEqual([status.imported, status.errors], [[], []]);
  });

  test('health answers ok, and 503 when the database is gone', async () => {
    const own = await freshService();
    const ok = await own.request('GET', '/health');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.checks.database, 'ok');
    // Remove the database's directory: the reconnect the client attempts cannot open the file.
    await own.db.close();
    await rm(dirname(sqlitePath(own.url)), { recursive: true, force: true });
    const down = await own.request('GET', '/health');
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'degraded');
    assert.notEqual(down.body.checks.database, 'ok');
    await own.close();
  });
});
