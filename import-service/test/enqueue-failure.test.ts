/**
 * The listing job cannot be queued (the queue's add throws, with a very long message): the job that
 * was just created ends `failed` with a reason the metadata-service accepts, never `queued` forever,
 * and the answer is a 503 in the error shape. Real metadata-service, Drive emulator and Redis; only
 * the queue's `add` is replaced (the rest of the Queue is the real one).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Queue } from 'bullmq';
import { clipText, JobListResponse, type ListingJobData, MAX_ERROR_TEXT, UpdateJobRequest } from '@drive-import/common';
import { DriveTree } from '@drive-import/drive-emulator';
import { createDriveClient, createDrivePacer, type DrivePacer } from '@drive-import/drive';
import { TEST_INTERNAL_TOKEN } from '@drive-import/testing';
import { createImportApp } from '../src/index.ts';
import { internalAuth, startParts, testLog, type Parts } from './support.ts';

let parts: Parts;
let pacer: DrivePacer;
let tree: DriveTree;
before(async () => {
  tree = DriveTree.fromList([{ type: 'image', path: 'a.png' }], { rootName: 'Enqueue failure' });
  parts = await startParts(tree);
  pacer = createDrivePacer({ redisUrl: parts.redisUrl, prefix: parts.prefix, maxPerSecond: 100_000 });
});
after(async () => {
  await pacer?.close();
  await parts?.close();
});

/** The real listing queue, except that add() fails with `message`. */
function failingQueue(message: string): Queue<ListingJobData> {
  return Object.create(parts.listingQueue, {
    add: {
      value: async () => {
        throw new Error(message);
      },
    },
  }) as Queue<ListingJobData>;
}

test('clipText: at most the limit, marked when cut, never half a surrogate pair', () => {
  assert.equal(clipText('short'), 'short');
  assert.equal(clipText('x'.repeat(MAX_ERROR_TEXT)), 'x'.repeat(MAX_ERROR_TEXT));
  const cut = clipText('x'.repeat(10_000));
  assert.equal(cut.length, MAX_ERROR_TEXT);
  assert.ok(cut.endsWith('…'));
  assert.ok(UpdateJobRequest.safeParse({ status: 'failed', error: cut }).success, 'the metadata-service accepts it');
  const emoji = clipText(`${'a'.repeat(8)}😀😀`, 10);
  assert.ok(emoji.length <= 10);
  assert.doesNotMatch(emoji, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone high surrogate');
});

test('enqueueing fails with a 10,000-character error: the job ends failed with the reason cut to fit, the answer is a 503', async () => {
  const reason = `connect ECONNREFUSED 127.0.0.1:6379 ${'x'.repeat(10_000)}`;
  const app = createImportApp({
    log: testLog,
    drive: createDriveClient({ rootUrl: parts.emulator.url }),
    pacer,
    metadata: parts.metadata,
    listingQueue: failingQueue(reason),
    defaultDestination: 'local',
    destinations: ['local'],
    batchSize: 100,
    internalToken: TEST_INTERNAL_TOKEN,
  });
  const res = await app.request('/imports', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...internalAuth },
    body: JSON.stringify({ folder_url: `https://drive.google.com/drive/folders/${tree.rootId}` }),
  });
  assert.equal(res.status, 503);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'queue_unavailable');
  assert.match(body.error.message, /^The job queue is unavailable \(connect ECONNREFUSED 127\.0\.0\.1:6379 x+…\); try again shortly\.$/);
  assert.ok(body.error.message.length < 1000, `a readable message (${body.error.message.length} chars)`);

  const { jobs } = await parts.metadata.call('GET', '/jobs', { query: { per_page: 10 }, schema: JobListResponse });
  assert.equal(jobs.length, 1, 'the job was created before the enqueue');
  const job = jobs[0]!;
  assert.equal(job.status, 'failed', 'not left queued');
  assert.ok(job.finished_at);
  assert.ok(job.error && job.error.length <= MAX_ERROR_TEXT, `reason of ${job.error?.length} chars`);
  assert.match(job.error, /^Could not queue the listing: connect ECONNREFUSED 127\.0\.0\.1:6379 x+…$/);
});
