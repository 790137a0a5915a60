// A 1,000-image tree (nested, duplicate and hostile names) through the gateway into an S3-compatible
// server: every image exactly once, bytes hashing to Drive's md5, one row each, safe keys; then a
// re-import of the unchanged folder copies nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startS3Server, uniqueName } from '@drive-import/testing';
import { md5, startSystem, type System } from './support.ts';

let s3: Awaited<ReturnType<typeof startS3Server>>;
let system: System;
let client: S3Client;
const bucket = uniqueName('e2e-bucket');

before(async () => {
  s3 = await startS3Server();
  await s3.createBucket(bucket);
  client = s3.client();
  // 1 + 4 + 16 folders over 3 levels, ~48 images each: 1,008 images; duplicates and odd names on.
  system = await startSystem(
    { seed: 42, depth: 2, foldersPerFolder: 4, filesPerFolder: 48, imageBytes: 4_000, duplicateNames: true, oddNames: true, extras: true },
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
});

after(async () => {
  await system?.close();
  client?.destroy();
  await s3?.stop();
});

async function listObjects() {
  const objects: Array<{ key: string; etag: string; lastModified: number }> = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) objects.push({ key: o.Key!, etag: o.ETag!, lastModified: o.LastModified!.getTime() });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

test('every image lands once in S3 with Drive md5, one row each, no unsafe key', async () => {
  const expected = system.emulator.tree.expectedImages();
  assert.ok(expected.length >= 1000, `tree has ${expected.length} images`);
  const status = await system.importFolder(system.emulator.folderUrl);
  assert.equal(status.status, 'completed', JSON.stringify(status.errors.slice(0, 3)));
  assert.equal(status.total, expected.length);
  assert.equal(status.processed, expected.length);
  assert.equal(status.failed, 0);
  assert.equal(status.listing_complete, true);
  assert.equal(status.bytes_done, expected.reduce((n, f) => n + f.size, 0));

  const objects = await listObjects();
  assert.equal(objects.length, expected.length, 'one object per image, no extras');
  assert.ok(objects.every((o) => !o.key.includes('..') && !o.key.startsWith('/')));

  const expectedMd5 = expected.map((f) => f.md5).sort();
  const storedMd5: string[] = [];
  for (const o of objects) {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
    storedMd5.push(md5(await got.Body!.transformToByteArray()));
  }
  assert.deepEqual(storedMd5.sort(), expectedMd5);

  const files = (await (await fetch(`${system.stack.gatewayUrl}/api/import/jobs/${status.job_id}/files?per_page=1000`, { headers: system.stack.adminHeaders })).json()) as {
    total: number;
    files: Array<{ status: string; storage_key: string }>;
  };
  assert.equal(files.total, expected.length, 'one row per image');
  assert.ok(files.files.every((f) => f.status === 'stored'));
  assert.deepEqual(new Set(files.files.map((f) => f.storage_key)).size, files.files.length);
});

test('a re-import of the unchanged folder skips every file and writes no object', async () => {
  const before = await listObjects();
  const status = await system.importFolder(system.emulator.folderUrl);
  assert.equal(status.status, 'completed');
  assert.equal(status.skipped, before.length);
  assert.equal(status.processed, before.length);
  const afterwards = await listObjects();
  assert.deepEqual(
    afterwards.map((o) => [o.key, o.etag, o.lastModified]).sort(),
    before.map((o) => [o.key, o.etag, o.lastModified]).sort(),
  );
});
