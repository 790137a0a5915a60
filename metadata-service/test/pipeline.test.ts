import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AddFilesResponse, FileListResponse, JobStatusResponse, JobSummary, ListingCompleteResponse, type CopyBatch } from '@drive-import/common';
import { createJob, failedResult, files, freshService, listedFile, stored, type TestService } from './support.ts';

const addFiles = async (svc: TestService, id: string, body: unknown) => {
  const res = await svc.request('POST', `/jobs/${id}/files`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return AddFilesResponse.parse(res.body);
};
const listingComplete = async (svc: TestService, id: string, body?: unknown) => {
  const res = await svc.request('POST', `/jobs/${id}/listing-complete`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ListingCompleteResponse.parse(res.body);
};
const results = async (svc: TestService, batchId: string, jobId: string, list: unknown[]) => {
  const res = await svc.request('POST', `/batches/${batchId}/results`, { job_id: jobId, results: list });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return JobSummary.parse(res.body);
};
const job = async (svc: TestService, id: string) => JobSummary.parse((await svc.request('GET', `/jobs/${id}`)).body);

describe('files, batches and results', () => {
  let svc: TestService;
  before(async () => {
    svc = await freshService();
  });
  after(() => svc.close());

  test('batches reported as enqueued are not returned again by listing-complete', async () => {
    const id = await createJob(svc, 10);
    const first = await addFiles(svc, id, { files: files(900_000, 35) });
    assert.equal(first.sealed_batches.length, 3);
    const reported = first.sealed_batches.slice(0, 2).map((b) => b.batch_id);
    // The next chunk reports two of the three sealed batches as on the copy queue.
    await addFiles(svc, id, { files: files(900_100, 10), enqueued_batch_ids: [reported[0]] });
    const done = await listingComplete(svc, id, { enqueued_batch_ids: [reported[1]] });
    // Left: the third sealed batch (never reported), the one sealed by the second chunk, the open one.
    assert.deepEqual(
      done.unfinished_batches.map((b) => b.batch_id),
      [`${id}-b2`, `${id}-b3`, `${id}-b4`],
    );
    assert.equal(done.unfinished_batches.reduce((n, b) => n + b.files.length, 0), 25);
    const bad = await svc.request('POST', `/jobs/${id}/listing-complete`, '{"enqueued_batch_ids": [');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
    const wrong = await svc.request('POST', `/jobs/${id}/listing-complete`, { enqueued_batch_ids: ['../x'] });
    assert.equal(wrong.status, 400);
  });

  test('2,500 files with batch_size 100 make 25 batches, each file in exactly one', async () => {
    const id = await createJob(svc, 100);
    const all = files(0, 2500);
    const sealed: CopyBatch[] = [];
    // Chunks that do not line up with batches, so batches carry over between calls.
    for (let i = 0; i < all.length; i += 333) sealed.push(...(await addFiles(svc, id, { files: all.slice(i, i + 333) })).sealed_batches);
    assert.equal(sealed.length, 25);
    const done = await listingComplete(svc, id);
    assert.equal(done.unfinished_batches.length, 25, 'nothing copied yet: all 25 come back');
    assert.deepEqual(done.unfinished_batches.map((b) => b.batch_id), sealed.map((b) => b.batch_id));
    assert.deepEqual(sealed.map((b) => b.batch_id), Array.from({ length: 25 }, (_, i) => `${id}-b${i}`));
    const seen = sealed.flatMap((b) => b.files.map((f) => f.drive_id));
    assert.equal(seen.length, 2500);
    assert.equal(new Set(seen).size, 2500);
    assert.deepEqual(seen, all.map((f) => f.drive_id), 'listing order is kept');
    for (const b of sealed) {
      assert.equal(b.files.length, 100);
      assert.equal(b.job_id, id);
      assert.equal(b.destination, 's3');
    }
    const summary = await job(svc, id);
    assert.equal(summary.total, 2500);
    assert.equal(summary.status, 'processing');
    assert.equal(summary.bytes_total, all.reduce((n, f) => n + f.size!, 0));
  });

  test('add-files is idempotent: same chunk twice, overlapping chunks, duplicates in one body', async () => {
    const id = await createJob(svc, 10);
    const first = await addFiles(svc, id, { files: files(0, 15) });
    assert.equal(first.inserted, 15);
    assert.equal(first.sealed_batches.length, 1);
    const again = await addFiles(svc, id, { files: files(0, 15) });
    assert.deepEqual(again, { inserted: 0, skipped_unchanged: 0, sealed_batches: [] });
    const overlap = await addFiles(svc, id, { files: files(10, 10) });
    assert.equal(overlap.inserted, 5);
    assert.deepEqual(overlap.sealed_batches.map((b) => [b.batch_id, b.files.length]), [[`${id}-b1`, 10]]);
    const dup = await addFiles(svc, id, { files: [listedFile(100), listedFile(100, { name: 'other.jpg' }), listedFile(101)] });
    assert.equal(dup.inserted, 2);
    const summary = await job(svc, id);
    assert.equal(summary.total, 22);
    const list = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?per_page=1000`)).body);
    assert.equal(list.total, 22);
    assert.equal(list.files.find((f) => f.id === listedFile(100).drive_id)?.name, listedFile(100).name, 'first occurrence wins');

    const done = await listingComplete(svc, id);
    assert.deepEqual(done.unfinished_batches.map((b) => [b.batch_id, b.files.length]), [[`${id}-b0`, 10], [`${id}-b1`, 10], [`${id}-b2`, 2]]);
    const twice = await listingComplete(svc, id);
    assert.deepEqual(twice.unfinished_batches, done.unfinished_batches, 'listing-complete is idempotent');
    assert.equal(twice.job.total, 22);
    const late = await svc.request('POST', `/jobs/${id}/files`, { files: [listedFile(500)] });
    assert.equal(late.status, 409, 'new files after the listing completed are refused');
    assert.equal((await addFiles(svc, id, { files: files(0, 3) })).inserted, 0, 'a retried listing of known files is still fine');
  });

  test('results: counters, idempotency, batch done, completion with errors', async () => {
    const id = await createJob(svc, 4);
    const all = files(1000, 6);
    const { sealed_batches } = await addFiles(svc, id, { files: all });
    assert.equal(sealed_batches.length, 1);
    const b0 = `${id}-b0`;
    const b1 = `${id}-b1`;

    // Results may arrive before the listing is complete: the job does not complete then.
    let s = await results(svc, b0, id, [stored(all[0]!), stored(all[1]!), failedResult(all[2]!), { drive_id: all[3]!.drive_id, status: 'skipped', attempts: 1 }]);
    assert.deepEqual([s.processed, s.skipped, s.failed, s.status], [3, 1, 1, 'queued']);
    assert.equal(s.bytes_done, all[0]!.size! + all[1]!.size! + all[3]!.size!);
    const redelivered = await results(svc, b0, id, [stored(all[0]!), stored(all[2]!)]);
    assert.deepEqual(redelivered, s, 'a redelivered result changes and counts nothing');
    const wrongBatch = await results(svc, b0, id, [stored(all[4]!)]);
    assert.equal(wrongBatch.processed, 3, 'a file of another batch is not touched');

    const done = await listingComplete(svc, id);
    assert.equal(done.job.status, 'processing');
    assert.deepEqual(done.unfinished_batches.map((b) => b.batch_id), [b1], 'b0 is done');
    s = await results(svc, b1, id, [stored(all[4]!), stored(all[5]!)]);
    assert.equal(s.status, 'completed_with_errors');
    assert.ok(s.finished_at);
    assert.equal(s.processed + s.failed, s.total);
    assert.equal(s.bytes_done, s.bytes_total - all[2]!.size!);

    const status = JobStatusResponse.parse((await svc.request('GET', `/jobs/${id}/status`)).body);
    assert.equal(status.imported.length, 5);
    assert.deepEqual(status.errors.map((f) => [f.id, f.status, f.error, f.attempts]), [[all[2]!.drive_id, 'failed', 'HTTP 500 from Drive', 5]]);
    const one = status.imported.find((f) => f.id === all[0]!.drive_id)!;
    assert.deepEqual([one.status, one.storage_provider, one.etag, one.md5, one.attempts], ['stored', 's3', `"${all[0]!.md5}"`, all[0]!.md5, 1]);
    const failedOnly = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?status=failed`)).body);
    assert.deepEqual([failedOnly.total, failedOnly.files[0]?.id], [1, all[2]!.drive_id]);
    const after = await listingComplete(svc, id);
    assert.equal(after.job.status, 'completed_with_errors', 'a completed job stays completed');
    assert.deepEqual(after.unfinished_batches, []);
    assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: [listedFile(9999)] })).status, 409);
  });

  test('a job whose files all succeed completes; an empty folder completes with 0 files', async () => {
    const id = await createJob(svc, 3);
    const all = files(2000, 3);
    await svc.request('PATCH', `/jobs/${id}`, { status: 'listing' });
    const { sealed_batches } = await addFiles(svc, id, { files: all });
    const done = await listingComplete(svc, id);
    assert.equal(done.unfinished_batches.length, 1);
    const s = await results(svc, sealed_batches[0]!.batch_id, id, all.map(stored));
    assert.deepEqual([s.status, s.processed, s.failed, s.total], ['completed', 3, 0, 3]);

    const empty = await createJob(svc);
    await svc.request('PATCH', `/jobs/${empty}`, { status: 'listing' });
    const e = await listingComplete(svc, empty);
    assert.deepEqual([e.job.status, e.job.total, e.unfinished_batches.length], ['completed', 0, 0]);
    assert.ok(e.job.finished_at);
  });

  test('skip-unchanged: a re-import of an unchanged folder copies nothing', async () => {
    const first = await createJob(svc, 5, 'local');
    const all = files(3000, 5);
    const { sealed_batches } = await addFiles(svc, first, { files: all });
    await listingComplete(svc, first);
    // One file fails in the first import: it must be copied again next time.
    await results(svc, sealed_batches[0]!.batch_id, first, [...all.slice(0, 4).map(stored), failedResult(all[4]!)]);

    const second = await createJob(svc, 5, 'local');
    const changed = listedFile(3001, { md5: 'f'.repeat(32) }); // same key, new content
    const add = await addFiles(svc, second, { files: [all[0]!, changed, all[2]!, all[3]!, all[4]!] });
    assert.equal(add.inserted, 5);
    assert.equal(add.skipped_unchanged, 3);
    const done = await listingComplete(svc, second);
    assert.deepEqual(done.unfinished_batches.flatMap((b) => b.files.map((f) => f.drive_id)), [changed.drive_id, all[4]!.drive_id]);
    assert.deepEqual([done.job.processed, done.job.skipped, done.job.status], [3, 3, 'processing']);
    assert.equal(done.job.bytes_done, all[0]!.size! + all[2]!.size! + all[3]!.size!);
    const skipped = FileListResponse.parse((await svc.request('GET', `/jobs/${second}/files?status=skipped`)).body);
    assert.deepEqual(skipped.files.map((f) => f.storage_provider), ['local', 'local', 'local']);

    // Another destination has none of these objects.
    const other = await createJob(svc, 5, 's3');
    assert.equal((await addFiles(svc, other, { files: all })).skipped_unchanged, 0);

    // Everything unchanged: the job completes at listing-complete without a batch.
    const third = await createJob(svc, 5, 'local');
    const again = await addFiles(svc, third, { files: all.slice(0, 4) });
    assert.deepEqual([again.skipped_unchanged, again.sealed_batches.length], [4, 0]);
    const end = await listingComplete(svc, third);
    assert.deepEqual([end.job.status, end.unfinished_batches.length, end.job.skipped], ['completed', 0, 4]);
  });

  test('file listing pages in listing order', async () => {
    const id = await createJob(svc, 100);
    await addFiles(svc, id, { files: files(4000, 25) });
    const p2 = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?page=2&per_page=10`)).body);
    assert.deepEqual([p2.total, p2.page, p2.per_page], [25, 2, 10]);
    assert.deepEqual(p2.files.map((f) => f.id), files(4010, 10).map((f) => f.drive_id));
    assert.equal(p2.files[0]!.status, 'pending');
    assert.equal(p2.files[0]!.modified_time, '2024-05-01T10:00:00.000Z');
  });
});
