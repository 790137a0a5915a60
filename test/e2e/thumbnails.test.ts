// Thumbnails through the real stack into an S3-compatible server: an import makes a WebP under
// <prefix>/thumbs/ per image; the images API points at /api/images/<id>/thumbnail, which streams it;
// a delete and a bulk delete remove the thumbnail with the original.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type ImageListResponse, type JobStatusResponse, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { createToken, openDb } from '@drive-import/metadata-service';
import { startS3Server, uniqueName, waitFor } from '@drive-import/testing';
import sharp from 'sharp';
import { startSystem, type System } from './support.ts';

let s3: Awaited<ReturnType<typeof startS3Server>>;
let system: System;
let client: S3Client;
let gateway: string;
let auth: Record<string, string> = {};
const bucket = uniqueName('e2e-thumbs');

before(async () => {
  s3 = await startS3Server();
  await s3.createBucket(bucket);
  client = s3.client();
  system = await startSystem(
    { seed: 31, depth: 0, filesPerFolder: 4, imageBytes: 3_000 },
    {
      STORAGE_PROVIDER: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      THUMBNAILS: 'true',
    },
  );
  gateway = system.stack.gatewayUrl;
  const db = await openDb(`file:${join(system.dir, 'meta.db')}`);
  try {
    auth = { authorization: `Bearer ${(await createToken(db, 'alice', false)).token}` };
  } finally {
    await db.close();
  }
});

after(async () => {
  await system?.close();
  client?.destroy();
  await s3?.stop();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(bytes.toString()) : undefined;
  return { status: res.status, headers: res.headers, bytes, body: json };
}

async function objectKeys(): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

test('thumbnails: made on import, served at /thumbnail, deleted with their image', async () => {
  const accepted = await api('POST', '/api/import/google-drive', { folder_url: system.emulator.folderUrl });
  assert.equal(accepted.status, 202, accepted.bytes.toString());
  const job = await waitFor(
    'import to finish',
    async () => {
      const s = (await api('GET', accepted.body.status_url)).body as JobStatusResponse;
      return TERMINAL_JOB_STATUSES.includes(s.status) ? s : null;
    },
    120_000,
    200,
  );
  assert.equal(job.status, 'completed');
  const keys = await objectKeys();
  assert.equal(keys.length, 8, keys.join(', '));
  assert.equal(keys.filter((k) => k.includes('/thumbs/') && k.endsWith('.webp')).length, 4);

  const { images } = (await api('GET', '/api/images?per_page=10')).body as ImageListResponse;
  assert.equal(images.length, 4);
  for (const img of images) {
    assert.equal(img.thumbnail_url, `/api/images/${img.id}/thumbnail`);
    assert.ok(img.thumbnail_key && keys.includes(img.thumbnail_key));
    const thumb = await api('GET', img.thumbnail_url!);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
    const meta = await sharp(thumb.bytes).metadata();
    assert.equal(meta.format, 'webp');
    assert.ok(Math.max(meta.width!, meta.height!) <= 320);
  }

  // One delete: original and thumbnail gone.
  const [first, ...rest] = images;
  assert.equal((await api('DELETE', `/api/images/${first!.id}`)).status, 200);
  assert.equal((await api('GET', `/api/images/${first!.id}/thumbnail`)).status, 404);
  let left = await objectKeys();
  assert.ok(!left.includes(first!.storage_key) && !left.includes(first!.thumbnail_key!), left.join(', '));
  assert.equal(left.length, 6);

  // Bulk delete by ids: the rest, thumbnails included.
  const bulk = await api('POST', '/api/images/bulk-delete', { ids: rest.map((i) => i.id) });
  assert.equal(bulk.status, 200, bulk.bytes.toString());
  assert.equal(bulk.body.deleted, 3);
  left = await objectKeys();
  assert.deepEqual(left, []);
});
