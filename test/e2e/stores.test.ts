// One stack writing to all three stores (an S3-compatible server, Azurite, a local directory): per
// store a small import, then the content and thumbnail routes with Range (206, 416), a delete, a bulk
// delete by ids and one by job, each checked in the store itself (no object left) and in the catalog
// (no row left). `thumbnails: true` in one request turns them on for that import only.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { type ImageListResponse, type ImageRecord, type JobStatusResponse, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { startAzurite, startS3Server, uniqueName, waitFor } from '@drive-import/testing';
import { localObjects, startSystem, type System } from './support.ts';

let s3: Awaited<ReturnType<typeof startS3Server>>;
let azurite: Awaited<ReturnType<typeof startAzurite>>;
let s3Client: S3Client;
let system: System;
let gateway: string;
const bucket = uniqueName('e2e-stores');
const container = uniqueName('e2e-stores');

before(async () => {
  [s3, azurite] = await Promise.all([startS3Server(), startAzurite()]);
  await s3.createBucket(bucket);
  s3Client = s3.client();
  system = await startSystem(
    { seed: 41, depth: 0, filesPerFolder: 3, imageBytes: 3_000 },
    {
      // The default store; S3 and Azure are configured too, so each import names its destination.
      STORAGE_PROVIDER: 'local',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AZURE_STORAGE_CONTAINER_NAME: container,
      THUMBNAILS: 'false',
    },
  );
  gateway = system.stack.gatewayUrl;
});

after(async () => {
  await system?.close();
  s3Client?.destroy();
  await Promise.allSettled([s3?.stop(), azurite?.stop()]);
});

async function api(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...system.stack.adminHeaders, ...options.headers, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(bytes.toString()) : undefined;
  return { status: res.status, headers: res.headers, bytes, body: json };
}

/** Every object key in a store, originals and thumbnails. */
async function storeKeys(destination: 's3' | 'azure' | 'local'): Promise<string[]> {
  const keys: string[] = [];
  if (destination === 's3') {
    const page = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
  } else if (destination === 'azure') {
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    for await (const blob of blobs.listBlobsFlat()) keys.push(blob.name);
  } else {
    for (const key of (await localObjects(join(system.dir, 'objects'))).keys()) keys.push(key);
  }
  return keys.sort();
}

async function importInto(destination: string, thumbnails?: boolean): Promise<JobStatusResponse> {
  const accepted = await api('POST', '/api/import/google-drive', {
    body: { folder_url: system.emulator.folderUrl, destination, ...(thumbnails === undefined ? {} : { thumbnails }) },
  });
  assert.equal(accepted.status, 202, accepted.bytes.toString());
  return waitFor(
    'import to finish',
    async () => {
      const s = (await api('GET', accepted.body.status_url)).body as JobStatusResponse;
      return TERMINAL_JOB_STATUSES.includes(s.status) ? s : null;
    },
    120_000,
    200,
  );
}

/** Range on one of the image's routes: a middle slice, a suffix, an open end, and one past the end. */
async function checkRanges(path: string) {
  const whole = await api('GET', path);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  const size = whole.bytes.length;
  assert.ok(size > 20);

  const middle = await api('GET', path, { headers: { range: 'bytes=5-14' } });
  assert.equal(middle.status, 206);
  assert.equal(middle.headers.get('content-range'), `bytes 5-14/${size}`);
  assert.equal(middle.headers.get('content-length'), '10');
  assert.deepEqual(middle.bytes, whole.bytes.subarray(5, 15));

  const suffix = await api('GET', path, { headers: { range: 'bytes=-7' } });
  assert.equal(suffix.status, 206);
  assert.equal(suffix.headers.get('content-range'), `bytes ${size - 7}-${size - 1}/${size}`);
  assert.deepEqual(suffix.bytes, whole.bytes.subarray(size - 7));

  const open = await api('GET', path, { headers: { range: `bytes=${size - 3}-` } });
  assert.equal(open.status, 206);
  assert.deepEqual(open.bytes, whole.bytes.subarray(size - 3));

  const past = await api('GET', path, { headers: { range: `bytes=${size}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${size}`);
  assert.equal(past.body.error.code, 'range_not_satisfiable');
}

for (const destination of ['s3', 'azure', 'local'] as const) {
  // Thumbnails asked for in the Azure import only (THUMBNAILS is false here).
  const thumbnails = destination === 'azure' ? true : undefined;
  describe(`${destination} store`, () => {
    it(`import${thumbnails ? ' with thumbnails' : ''}, Range reads, delete and bulk delete remove object and row`, async () => {
      const job = await importInto(destination, thumbnails);
      assert.equal(job.status, 'completed', JSON.stringify(job.errors));
      assert.equal(job.processed, 3);
      assert.equal(job.thumbnails, thumbnails ?? false);
      const listed = (await api('GET', `/api/images?job_id=${job.job_id}`)).body as ImageListResponse;
      assert.equal(listed.images.length, 3);
      const keysOf = (images: ImageRecord[]) => images.flatMap((i) => (i.thumbnail_key ? [i.storage_key, i.thumbnail_key] : [i.storage_key])).sort();
      assert.deepEqual(await storeKeys(destination), keysOf(listed.images), 'the store holds exactly the images and their thumbnails');
      for (const img of listed.images) assert.equal(img.thumbnail_key !== null, thumbnails === true, img.name);

      const [first, second, third] = listed.images as [ImageRecord, ImageRecord, ImageRecord];
      await checkRanges(first.url);
      if (thumbnails) await checkRanges(first.thumbnail_url!);

      // One delete: its object (and thumbnail) and its row go; again is a 404 not_found.
      const deleted = await api('DELETE', `/api/images/${first.id}`);
      assert.equal(deleted.status, 200, deleted.bytes.toString());
      assert.equal(deleted.body.result, 'deleted');
      assert.equal((await api('GET', `/api/images/${first.id}`)).status, 404);
      assert.deepEqual(await storeKeys(destination), keysOf([second, third]));
      const again = await api('DELETE', `/api/images/${first.id}`);
      assert.equal(again.status, 404);
      assert.equal(again.body.result, 'not_found');

      // Bulk by ids, one of them gone already: reported per id.
      const bulk = await api('POST', '/api/images/bulk-delete', { body: { ids: [second.id, first.id] } });
      assert.equal(bulk.status, 200, bulk.bytes.toString());
      assert.deepEqual([bulk.body.deleted, bulk.body.not_found, bulk.body.store_error], [1, 1, 0]);
      assert.deepEqual(
        bulk.body.results.map((r: { id: string; result: string }) => [r.id, r.result]),
        [
          [second.id, 'deleted'],
          [first.id, 'not_found'],
        ],
      );
      assert.deepEqual(await storeKeys(destination), keysOf([third]));

      // Bulk by job: the rest. Nothing of the job is left in the store or the catalog.
      const byJob = await api('POST', '/api/images/bulk-delete', { body: { job_id: job.job_id } });
      assert.equal(byJob.status, 200, byJob.bytes.toString());
      assert.equal(byJob.body.deleted, 1);
      assert.deepEqual(await storeKeys(destination), []);
      const left = (await api('GET', `/api/images?job_id=${job.job_id}`)).body as ImageListResponse;
      assert.deepEqual([left.images.length, left.total], [0, 0]);
      assert.equal((await api('GET', `/api/images/${third.id}/content`)).status, 404);
    });
  });
}
