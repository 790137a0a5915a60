import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { AddFilesResponse, CopyBatch, FileListResponse, JobStatusResponse, JobSummary, ListingCompleteResponse, QUEUES, type FileRecord } from '@drive-import/common';
import { backfillStoredObjects } from '../src/stored-objects.ts';
import { createJob, failedResult, files, freshService, listedFile, stored, type TestService } from './support.ts';

const addFiles = async (svc: TestService, id: string, body: unknown) => {
  const res = await svc.request('POST', `/jobs/${id}/files`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return AddFilesResponse.parse(res.body);
};
const listingComplete = async (svc: TestService, id: string) => {
  const res = await svc.request('POST', `/jobs/${id}/listing-complete`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ListingCompleteResponse.parse(res.body);
};
const results = async (svc: TestService, batchId: string, jobId: string, list: unknown[]) => {
  const res = await svc.request('POST', `/batches/${batchId}/results`, { job_id: jobId, results: list });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return JobSummary.parse(res.body);
};
const job = async (svc: TestService, id: string) => JobSummary.parse((await svc.request('GET', `/jobs/${id}`)).body);

/** What a worker gets for a batch: its pending files. */
const batch = async (svc: TestService, batchId: string) => {
  const res = await svc.request('GET', `/batches/${batchId}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return CopyBatch.parse(res.body);
};
const pendingIds = async (svc: TestService, batchIds: string[]) => (await Promise.all(batchIds.map((b) => batch(svc, b)))).flatMap((b) => b.files.map((f) => f.drive_id));
/** Every file of a job, a keyset page at a time. */
async function allFiles(svc: TestService, id: string, query = ''): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?per_page=7${query}${cursor ? `&cursor=${cursor}` : ''}`)).body);
    for (const f of page.files) out.push(f);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

describe('files, batches and results', () => {
  let svc: TestService;
  before(async () => {
    svc = await freshService();
  });
  after(() => svc.close());

  test('the metadata-service seals each full batch and puts it on the copy queue itself (a reference, not the files)', async () => {
    const id = await createJob(svc, 10);
    const first = await addFiles(svc, id, { files: files(900_000, 35) });
    assert.deepEqual(first, { inserted: 35, skipped_unchanged: 0, batches_sealed: 3 });
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`, `${id}-b1`, `${id}-b2`]);
    const queued = await svc.copyQueue.getJob(`${id}-b0`);
    assert.deepEqual(queued?.data, { job_id: id, batch_id: `${id}-b0` }, 'Redis holds the id only');
    const done = await listingComplete(svc, id);
    assert.equal(done.batches_sealed, 1, 'the open batch is sealed at the end');
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`, `${id}-b1`, `${id}-b2`, `${id}-b3`]);
    assert.equal((await batch(svc, `${id}-b3`)).files.length, 5);
    const rows = await svc.db.read.batch.findMany({ where: { jobId: id }, orderBy: { index: 'asc' } });
    assert.deepEqual(rows.map((b) => b.status), ['queued', 'queued', 'queued', 'queued']);
    assert.equal((await svc.request('GET', `/batches/${id}-b99`)).status, 404);
    assert.equal((await svc.request('GET', '/batches/..%2Fx')).status, 404);
  });

  test('outbox: batches sealed while Redis was unreachable are enqueued by the sweep, once', async () => {
    const id = await createJob(svc, 10);
    // The commit happened, the enqueue did not (Redis away, or a crash between the two).
    const added = await svc.db.transaction((tx) => tx.batch.count({ where: { jobId: id } }));
    assert.equal(added, 0);
    await addFiles(svc, id, { files: files(910_000, 20) });
    await svc.db.transaction((tx) => tx.batch.updateMany({ where: { jobId: id }, data: { status: 'sealed' } }));
    await svc.copyQueue.obliterate({ force: true });
    assert.deepEqual(await svc.queuedBatchIds(id), []);
    assert.ok((await svc.dispatcher.sweep()) >= 2);
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`, `${id}-b1`]);
    assert.equal(await svc.dispatcher.sweep(), 0, 'nothing sealed is left: the next sweep enqueues nothing');
    // Redis restarted without its data: queued batches are gone from it, and the sweep puts them back.
    await svc.copyQueue.obliterate({ force: true });
    assert.ok((await svc.dispatcher.sweep()) >= 2, "this job's two batches, and the earlier test's");
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`, `${id}-b1`]);
    assert.equal(await svc.dispatcher.sweep(), 0);
    // A cancelled job's sealed batches are not swept onto the queue.
    const cancelled = await createJob(svc, 10);
    await addFiles(svc, cancelled, { files: files(920_000, 10) });
    await svc.db.transaction((tx) => tx.batch.updateMany({ where: { jobId: cancelled }, data: { status: 'sealed' } }));
    await svc.request('PATCH', `/jobs/${cancelled}`, { status: 'cancelled' });
    await svc.copyQueue.obliterate({ force: true });
    await svc.dispatcher.sweep();
    assert.deepEqual(await svc.queuedBatchIds(cancelled), []);
    assert.deepEqual((await batch(svc, `${cancelled}-b0`)).files, [], 'a worker gets nothing to copy for a cancelled job');
  });

  test('2,500 files with batch_size 100 make 25 batches, each file in exactly one', async () => {
    const id = await createJob(svc, 100);
    const all = files(0, 2500);
    let sealed = 0;
    // Chunks that do not line up with batches, so batches carry over between calls.
    for (let i = 0; i < all.length; i += 333) sealed += (await addFiles(svc, id, { files: all.slice(i, i + 333) })).batches_sealed;
    assert.equal(sealed, 25);
    const done = await listingComplete(svc, id);
    assert.equal(done.batches_sealed, 0, 'no open batch was left');
    const ids = await svc.queuedBatchIds(id);
    assert.deepEqual(ids, Array.from({ length: 25 }, (_, i) => `${id}-b${i}`));
    const batches = await Promise.all(ids.map((b) => batch(svc, b)));
    const seen = batches.flatMap((b) => b.files.map((f) => f.drive_id));
    assert.equal(seen.length, 2500);
    assert.equal(new Set(seen).size, 2500);
    assert.deepEqual(seen, all.map((f) => f.drive_id), 'listing order is kept');
    for (const b of batches) {
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
    assert.equal(first.batches_sealed, 1);
    const again = await addFiles(svc, id, { files: files(0, 15) });
    assert.deepEqual(again, { inserted: 0, skipped_unchanged: 0, batches_sealed: 0 });
    const overlap = await addFiles(svc, id, { files: files(10, 10) });
    assert.equal(overlap.inserted, 5);
    assert.equal(overlap.batches_sealed, 1);
    assert.equal((await batch(svc, `${id}-b1`)).files.length, 10);
    const dup = await addFiles(svc, id, { files: [listedFile(100), listedFile(100, { name: 'other.jpg' }), listedFile(101)] });
    assert.equal(dup.inserted, 2);
    const summary = await job(svc, id);
    assert.equal(summary.total, 22);
    const list = await allFiles(svc, id);
    assert.equal(list.length, 22);
    assert.equal(list.find((f) => f.id === listedFile(100).drive_id)?.name, listedFile(100).name, 'first occurrence wins');

    const done = await listingComplete(svc, id);
    assert.equal(done.batches_sealed, 1);
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`, `${id}-b1`, `${id}-b2`]);
    assert.equal((await batch(svc, `${id}-b2`)).files.length, 2);
    const twice = await listingComplete(svc, id);
    assert.equal(twice.batches_sealed, 0, 'listing-complete is idempotent');
    assert.equal(twice.job.total, 22);
    const late = await svc.request('POST', `/jobs/${id}/files`, { files: [listedFile(500)] });
    assert.equal(late.status, 409, 'new files after the listing completed are refused');
    assert.equal((await addFiles(svc, id, { files: files(0, 3) })).inserted, 0, 'a retried listing of known files is still fine');
  });

  test('results: counters, idempotency, batch done, completion with errors', async () => {
    const id = await createJob(svc, 4);
    const all = files(1000, 6);
    assert.equal((await addFiles(svc, id, { files: all })).batches_sealed, 1);
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
    assert.deepEqual((await batch(svc, b0)).files, [], 'a done batch has nothing left to copy');

    const done = await listingComplete(svc, id);
    assert.equal(done.job.status, 'processing');
    assert.deepEqual(await pendingIds(svc, [b1]), [all[4]!.drive_id, all[5]!.drive_id]);
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
    assert.deepEqual([failedOnly.total, failedOnly.files[0]?.id, failedOnly.next_cursor], [1, all[2]!.drive_id, null]);
    const after = await listingComplete(svc, id);
    assert.equal(after.job.status, 'completed_with_errors', 'a completed job stays completed');
    assert.equal(after.batches_sealed, 0);
    assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: [listedFile(9999)] })).status, 409);
  });

  test('a job whose files all succeed completes; an empty folder completes with 0 files', async () => {
    const id = await createJob(svc, 3);
    const all = files(2000, 3);
    await svc.request('PATCH', `/jobs/${id}`, { status: 'listing' });
    await addFiles(svc, id, { files: all });
    await listingComplete(svc, id);
    assert.deepEqual(await svc.queuedBatchIds(id), [`${id}-b0`]);
    const s = await results(svc, `${id}-b0`, id, all.map(stored));
    assert.deepEqual([s.status, s.processed, s.failed, s.total], ['completed', 3, 0, 3]);

    const empty = await createJob(svc);
    await svc.request('PATCH', `/jobs/${empty}`, { status: 'listing' });
    const e = await listingComplete(svc, empty);
    assert.deepEqual([e.job.status, e.job.total, e.batches_sealed], ['completed', 0, 0]);
    assert.ok(e.job.finished_at);
  });

  /** One import of `list` to `destination` whose files all get stored; returns the job id. */
  async function importAll(list: ReturnType<typeof files>, destination = 'local'): Promise<{ id: string; add: AddFilesResponse }> {
    const id = await createJob(svc, 100, destination);
    const add = await addFiles(svc, id, { files: list });
    await listingComplete(svc, id);
    const pending = new Set(await pendingIds(svc, await svc.queuedBatchIds(id)));
    const todo = list.filter((f) => pending.has(f.drive_id));
    if (todo.length) await results(svc, `${id}-b0`, id, todo.map(stored));
    return { id, add };
  }

  test('skip-unchanged: a re-import of an unchanged folder copies nothing', async () => {
    const first = await createJob(svc, 5, 'local');
    const all = files(3000, 5);
    await addFiles(svc, first, { files: all });
    await listingComplete(svc, first);
    // One file fails in the first import: it must be copied again next time.
    await results(svc, `${first}-b0`, first, [...all.slice(0, 4).map(stored), failedResult(all[4]!)]);

    const second = await createJob(svc, 5, 'local');
    const changed = listedFile(3001, { md5: 'f'.repeat(32) }); // same key, new content
    const add = await addFiles(svc, second, { files: [all[0]!, changed, all[2]!, all[3]!, all[4]!] });
    assert.equal(add.inserted, 5);
    assert.equal(add.skipped_unchanged, 3);
    const done = await listingComplete(svc, second);
    assert.deepEqual(await pendingIds(svc, await svc.queuedBatchIds(second)), [changed.drive_id, all[4]!.drive_id]);
    assert.deepEqual([done.job.processed, done.job.skipped, done.job.status], [3, 3, 'processing']);
    assert.equal(done.job.bytes_done, all[0]!.size! + all[2]!.size! + all[3]!.size!);
    const skipped = FileListResponse.parse((await svc.request('GET', `/jobs/${second}/files?status=skipped`)).body);
    assert.deepEqual(skipped.files.map((f) => f.storage_provider), ['local', 'local', 'local']);
    assert.equal(skipped.total, 3);

    // Another destination has none of these objects.
    const other = await createJob(svc, 5, 's3');
    assert.equal((await addFiles(svc, other, { files: all })).skipped_unchanged, 0);

    // Everything unchanged: the job completes at listing-complete without a batch.
    const third = await createJob(svc, 5, 'local');
    const again = await addFiles(svc, third, { files: all.slice(0, 4) });
    assert.deepEqual([again.skipped_unchanged, again.batches_sealed], [4, 0]);
    const end = await listingComplete(svc, third);
    assert.deepEqual([end.job.status, end.batches_sealed, end.job.skipped], ['completed', 0, 4]);
  });

  test('skip-unchanged compares with what the key holds NOW: v1 -> v2 -> v1 is copied again', async () => {
    const v1 = files(5000, 3);
    const v2 = v1.map((f, i) => (i === 0 ? { ...f, md5: 'a'.repeat(32), size: 7 } : f));
    assert.equal((await importAll(v1)).add.skipped_unchanged, 0);
    const second = await importAll(v2);
    assert.equal(second.add.skipped_unchanged, 2, 'the changed file is copied, the others skipped');
    // Back to v1: the key holds v2, so the first file must be copied; an earlier job's v1 row is history.
    const third = await importAll(v1);
    assert.equal(third.add.skipped_unchanged, 2);
    const copied = (await allFiles(svc, third.id, '&status=stored')).map((f) => f.id);
    assert.deepEqual(copied, [v1[0]!.drive_id]);
    // And with v1 in place again, a fourth import skips everything.
    assert.equal((await importAll(v1)).add.skipped_unchanged, 3);
  });

  test('after the upgrade, stored_objects is filled once from the files already in the store', async () => {
    const list = files(7000, 4);
    await importAll(list);
    // A database from before stored_objects existed: the files are stored, the table is empty.
    await svc.db.transaction((tx) => tx.storedObject.deleteMany({}));
    assert.ok((await backfillStoredObjects(svc.db)) >= 4);
    assert.equal(await backfillStoredObjects(svc.db), 0, 'only once');
    assert.equal((await importAll(list)).add.skipped_unchanged, 4, 'the re-import after the upgrade still skips');
  });

  test('files page by keyset cursor in listing order, per status, with totals from the counters', async () => {
    const id = await createJob(svc, 100);
    await addFiles(svc, id, { files: files(4000, 25) });
    const p1 = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?per_page=10`)).body);
    assert.deepEqual([p1.total, p1.per_page, p1.files.length], [25, 10, 10]);
    assert.ok(p1.next_cursor);
    const p2 = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?per_page=10&cursor=${p1.next_cursor}`)).body);
    assert.deepEqual(p2.files.map((f) => f.id), files(4010, 10).map((f) => f.drive_id));
    assert.equal(p2.files[0]!.status, 'pending');
    assert.equal(p2.files[0]!.modified_time, '2024-05-01T10:00:00.000Z');
    const p3 = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?per_page=10&cursor=${p2.next_cursor}`)).body);
    assert.deepEqual([p3.files.length, p3.next_cursor], [5, null]);
    assert.deepEqual((await allFiles(svc, id)).map((f) => f.id), files(4000, 25).map((f) => f.drive_id));
    const pending = FileListResponse.parse((await svc.request('GET', `/jobs/${id}/files?status=pending&per_page=1`)).body);
    assert.equal(pending.total, 25);
    for (const bad of ['cursor=abc', 'cursor=-1', 'page=2', 'per_page=0', 'status=nope']) {
      const res = await svc.request('GET', `/jobs/${id}/files?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.ok(res.body.error.code && res.body.error.message, bad);
    }
  });

  test('the status route carries the latest 20 stored and the latest 20 failed, newest first', async () => {
    const id = await createJob(svc, 100);
    const all = files(6000, 60);
    await addFiles(svc, id, { files: all });
    await results(svc, `${id}-b0`, id, all.slice(0, 30).map(stored));
    await results(svc, `${id}-b0`, id, all.slice(30).map((f) => failedResult(f)));
    const status = JobStatusResponse.parse((await svc.request('GET', `/jobs/${id}/status`)).body);
    assert.equal(status.imported.length, 20);
    assert.equal(status.errors.length, 20);
    assert.deepEqual([status.total, status.processed, status.failed], [60, 30, 30], 'counters cover every file');
    assert.ok(status.imported.every((f) => f.status === 'stored'));
    assert.ok(status.errors.every((f) => f.status === 'failed'));
  });
});

describe('a batch the copy queue gave up', () => {
  let svc: TestService;
  before(async () => {
    svc = await freshService();
  });
  after(() => svc.close());

  test('the sweep fails its pending files with the queue\'s reason and the job ends (it waited for ever before)', async () => {
    const id = await createJob(svc, 10);
    const listed = files(940_000, 20);
    await addFiles(svc, id, { files: listed });
    await listingComplete(svc, id);
    // BullMQ gives b0 up the way it does a batch whose worker died more than maxStalledCount times.
    const taker = new Worker(QUEUES.copy, null, { connection: svc.copyQueue.opts.connection, prefix: svc.copyQueue.opts.prefix, autorun: false });
    try {
      const token = 'test-token';
      const taken = await taker.getNextJob(token);
      assert.equal(taken?.id, `${id}-b0`);
      await taken!.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token);
      assert.equal(await taken!.getState(), 'failed');
    } finally {
      await taker.close();
    }
    // b1 is copied as usual.
    await results(svc, `${id}-b1`, id, listed.slice(10).map(stored));
    assert.equal((await job(svc, id)).status, 'processing', 'b0 is still pending');

    await svc.dispatcher.sweep();
    const ended = await job(svc, id);
    assert.equal(ended.status, 'completed_with_errors');
    assert.equal(ended.processed, 10);
    assert.equal(ended.failed, 10);
    const failed = await allFiles(svc, id, '&status=failed');
    assert.deepEqual(failed.map((f) => f.id).sort(), listed.slice(0, 10).map((f) => f.drive_id).sort());
    for (const f of failed) assert.match(f.error ?? '', /gave this file's batch up: job stalled more than allowable limit/);
    const row = await svc.db.read.batch.findUnique({ where: { id: `${id}-b0` } });
    assert.equal(row?.status, 'done', 'settled: the next sweep does not look at it again');
    await svc.dispatcher.sweep();
    assert.equal((await allFiles(svc, id, '&status=failed')).length, 10);
  });
});
