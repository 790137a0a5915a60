// The image routes through the real stack into an S3-compatible server: a token imports a small
// folder; list, get (presigned read URL), content, /all (NDJSON and array), delete, bulk delete (ids
// and job), stats, another token's 404s, and a re-import after a delete copying that file again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type ImageListResponse, type JobStatusResponse, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { createToken, openDb } from '@drive-import/metadata-service';
import { startS3Server, uniqueName, waitFor } from '@drive-import/testing';
import { md5, startSystem, type System } from './support.ts';

let s3: Awaited<ReturnType<typeof startS3Server>>;
let system: System;
let client: S3Client;
let gateway: string;
const bucket = uniqueName('e2e-images');
const tokens: Record<'alice' | 'bob', Record<string, string>> = { alice: {}, bob: {} };

before(async () => {
  s3 = await startS3Server();
  await s3.createBucket(bucket);
  client = s3.client();
  // 1 + 2 folders, 5 images each: 15 images.
  system = await startSystem(
    { seed: 11, depth: 1, foldersPerFolder: 2, filesPerFolder: 5, imageBytes: 3_000 },
    {
      STORAGE_PROVIDER: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    },
  );
  gateway = system.stack.gatewayUrl;
  const db = await openDb(`file:${join(system.dir, 'meta.db')}`);
  try {
    for (const name of ['alice', 'bob'] as const) tokens[name] = { authorization: `Bearer ${(await createToken(db, name, false)).token}` };
  } finally {
    await db.close();
  }
});

after(async () => {
  await system?.close();
  client?.destroy();
  await s3?.stop();
});

async function api(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined };
}

async function importAs(headers: Record<string, string>): Promise<JobStatusResponse> {
  const accepted = await api('POST', '/api/import/google-drive', headers, { folder_url: system.emulator.folderUrl });
  assert.equal(accepted.status, 202, accepted.text);
  return waitFor(
    'import to finish',
    async () => {
      const status = (await api('GET', accepted.body.status_url, headers)).body as JobStatusResponse;
      return TERMINAL_JOB_STATUSES.includes(status.status) ? status : null;
    },
    120_000,
    200,
  );
}

async function objectKeys(): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

test('images: list, get, content, stream, delete, bulk delete, stats, ownership, re-import', async () => {
  const expected = system.emulator.tree.expectedImages();
  assert.equal(expected.length, 15);
  const job1 = await importAs(tokens.alice);
  assert.equal(job1.status, 'completed');
  assert.equal((await objectKeys()).length, 15);

  // List: alice's 15, total from the counters; bob sees none.
  const list = await api('GET', '/api/images?per_page=10', tokens.alice);
  assert.equal(list.status, 200, list.text);
  const page1 = list.body as ImageListResponse;
  assert.equal(page1.total, 15);
  assert.equal(page1.images.length, 10);
  assert.equal(page1.page, 1);
  assert.ok(page1.next_cursor);
  const page2 = (await api('GET', `/api/images?per_page=10&cursor=${page1.next_cursor}`, tokens.alice)).body as ImageListResponse;
  assert.equal(page2.images.length, 5);
  assert.equal(page2.next_cursor, null);
  const images = [...page1.images, ...page2.images];
  assert.deepEqual(images.map((i) => i.md5).sort(), expected.map((f) => f.md5).sort());
  assert.ok(images.every((i) => i.job_id === job1.job_id && i.destination === 's3' && i.url === `/api/images/${i.id}/content`));
  assert.equal((await api('GET', '/api/images', tokens.bob)).body.total, 0);
  assert.equal((await api('GET', '/api/images', system.stack.adminHeaders)).body.total, 15);
  assert.equal((await api('GET', '/api/images?page=abc', tokens.alice)).status, 400);

  // One image: metadata, a presigned read URL that reads the bytes, and the content through the gateway.
  const img = images[0]!;
  const detail = await api('GET', `/api/images/${img.id}`, tokens.alice);
  assert.equal(detail.status, 200, detail.text);
  assert.equal(detail.body.storage_key, img.storage_key);
  assert.match(detail.body.read_url, /X-Amz-Signature=/);
  const viaUrl = await fetch(detail.body.read_url);
  assert.equal(viaUrl.status, 200);
  assert.equal(md5(new Uint8Array(await viaUrl.arrayBuffer())), img.md5);
  const content = await fetch(`${gateway}/api/images/${img.id}/content`, { headers: tokens.alice });
  assert.equal(content.status, 200);
  assert.equal(content.headers.get('content-length'), String(img.size));
  assert.equal(md5(new Uint8Array(await content.arrayBuffer())), img.md5);

  // Another token: 404 on read, content and delete; the image stays.
  assert.equal((await api('GET', `/api/images/${img.id}`, tokens.bob)).status, 404);
  assert.equal((await api('GET', `/api/images/${img.id}/content`, tokens.bob)).status, 404);
  const bobDelete = await api('DELETE', `/api/images/${img.id}`, tokens.bob);
  assert.equal(bobDelete.status, 404);
  assert.equal(bobDelete.body.result, 'not_found');
  const bobBulk = await api('POST', '/api/images/bulk-delete', tokens.bob, { ids: [img.id] });
  assert.deepEqual([bobBulk.body.deleted, bobBulk.body.not_found], [0, 1]);
  assert.equal((await api('POST', '/api/images/bulk-delete', tokens.bob, { job_id: job1.job_id })).status, 404);
  assert.equal((await objectKeys()).length, 15);
  assert.equal((await api('GET', `/api/images/${img.id}`, tokens.alice)).status, 200);

  // /all: NDJSON and a JSON array, streamed through the gateway.
  const nd = await api('GET', '/api/images/all', { ...tokens.alice, accept: 'application/x-ndjson' });
  assert.equal(nd.headers.get('content-type'), 'application/x-ndjson');
  const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.id), images.map((i) => i.id));
  const arr = await api('GET', '/api/images/all', tokens.alice);
  assert.equal(arr.body.length, 15);
  assert.equal((await api('GET', '/api/images/all', tokens.bob)).text, '[]');

  // Delete one: object and row go; again: not_found.
  const del = await api('DELETE', `/api/images/${img.id}`, tokens.alice);
  assert.deepEqual(del.body, { id: img.id, result: 'deleted', error: null });
  assert.ok(!(await objectKeys()).includes(img.storage_key));
  assert.equal((await api('DELETE', `/api/images/${img.id}`, tokens.alice)).status, 404);
  assert.equal((await api('GET', `/api/images/${img.id}`, tokens.alice)).status, 404);

  // Bulk by ids: two deleted, one unknown.
  const bulk = await api('POST', '/api/images/bulk-delete', tokens.alice, { ids: [images[1]!.id, images[2]!.id, '99999999'] });
  assert.equal(bulk.status, 200, bulk.text);
  assert.deepEqual([bulk.body.deleted, bulk.body.not_found, bulk.body.store_error], [2, 1, 0]);
  assert.deepEqual(bulk.body.results.map((r: { result: string }) => r.result), ['deleted', 'deleted', 'not_found']);
  assert.equal((await objectKeys()).length, 12);

  // Stats: the older keys plus per store, job and day; the job's counters follow the deletes.
  const stats = (await api('GET', '/api/stats', tokens.alice)).body;
  assert.equal(stats.total_images, 12);
  assert.equal(stats.aws_images, 12);
  assert.equal(stats.azure_images, 0);
  const keptBytes = images.slice(3).reduce((n, i) => n + i.size!, 0);
  assert.equal(stats.total_size_bytes, keptBytes);
  assert.equal(stats.total_size_mb, Math.round((keptBytes / 1024 / 1024) * 100) / 100);
  assert.deepEqual(stats.stores.s3, { files: 12, bytes: keptBytes });
  assert.equal(stats.jobs[0].files, 12);
  assert.equal(stats.days.at(-1).files, 12);
  assert.equal((await api('GET', '/api/stats', tokens.bob)).body.total_images, 0);
  // The gateway's status cache serves a poll up to 1 s old.
  const job1After = await waitFor('the status to follow the deletes', async () => {
    const s = (await api('GET', `/api/import/status/${job1.job_id}`, tokens.alice)).body as JobStatusResponse;
    return s.total === 12 ? s : null;
  }, 5_000, 200);
  assert.equal(job1After.processed, 12);
  assert.equal(job1After.status, 'completed');

  // A re-import copies the three deleted files again and skips the twelve still stored.
  const job2 = await importAs(tokens.alice);
  assert.equal(job2.status, 'completed');
  assert.equal(job2.total, 15);
  assert.equal(job2.skipped, 12);
  assert.equal((await objectKeys()).length, 15);
  assert.ok((await objectKeys()).includes(img.storage_key));
  assert.equal((await api('GET', '/api/images', tokens.alice)).body.total, 27);

  // Bulk by job: job 1's twelve rows and their objects; then job 2's fifteen (twelve of whose keys
  // are already gone: the catalog no longer knows them, so only their rows go).
  const byJob1 = await api('POST', '/api/images/bulk-delete', tokens.alice, { job_id: job1.job_id });
  assert.deepEqual(byJob1.body, { deleted: 12, not_found: 0, store_error: 0, results: [] });
  assert.equal((await objectKeys()).length, 3);
  const byJob2 = await api('POST', '/api/images/bulk-delete', tokens.alice, { job_id: job2.job_id });
  assert.deepEqual(byJob2.body, { deleted: 15, not_found: 0, store_error: 0, results: [] });
  assert.deepEqual(await objectKeys(), []);
  const empty = (await api('GET', '/api/stats', tokens.alice)).body;
  assert.equal(empty.total_images, 0);
  assert.equal(empty.total_size_bytes, 0);
  assert.equal((await api('GET', '/api/images', tokens.alice)).body.total, 0);
});
