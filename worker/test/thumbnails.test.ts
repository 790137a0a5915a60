import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ImageListResponse, objectKey } from '@drive-import/common';
import sharp from 'sharp';
import { thumbnailKey } from '../src/thumbnail.ts';
import { createJob, enqueue, jobFiles, metadataClient, setup, sharedRedis, waitForJob, type TestEnv } from './support.ts';

after(async () => (await sharedRedis()).stop());

function s3(env: TestEnv) {
  return new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function objects(env: TestEnv): Promise<Map<string, Buffer>> {
  const client = s3(env);
  try {
    const out = new Map<string, Buffer>();
    const page = await client.send(new ListObjectsV2Command({ Bucket: env.bucket }));
    for (const o of page.Contents ?? []) {
      const obj = await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: o.Key! }));
      out.set(o.Key!, Buffer.from(await obj.Body!.transformToByteArray()));
    }
    return out;
  } finally {
    client.destroy();
  }
}

test('thumbnailKey: under <prefix>/thumbs/, .webp; none outside the prefix', () => {
  assert.equal(thumbnailKey('test/root/a/b.png', 'test'), 'test/thumbs/root/a/b.png.webp');
  assert.equal(thumbnailKey('p/q/root/b.png', 'p/q'), 'p/q/thumbs/root/b.png.webp');
  assert.equal(thumbnailKey('root/b.png', ''), 'thumbs/root/b.png.webp');
  assert.equal(thumbnailKey('other/b.png', 'test'), null);
  assert.equal(thumbnailKey(`test/${'x'.repeat(1015)}`, 'test'), null, 'too long');
});

test('thumbnails: WebP under thumbs/ for decodable images; none for a big or undecodable file; originals intact', async () => {
  const env = await setup({ tree: { files: 6, depth: 1, seed: 21, imageBytes: 4000 } });
  try {
    const root = env.emulator.tree.rootId;
    // A real 1200x800 JPEG bigger than THUMBNAIL_MAX_BYTES below, and image bytes sharp cannot decode.
    const big = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).jpeg({ quality: 95 }).toBuffer();
    assert.ok(big.length > 60_000);
    const bigId = env.emulator.tree.addFile(root, 'big.jpg', 'image/jpeg', big);
    const badId = env.emulator.tree.addFile(root, 'broken.jpg', 'image/jpeg', Buffer.from('not a jpeg at all, just garbage bytes '.repeat(20)));
    const { jobId, batches, files } = await createJob(env, { batchSize: 100, thumbnails: true });
    assert.equal(files.length, 8);
    await env.startWorker({ THUMBNAIL_MAX_BYTES: '60000' });
    await enqueue(env, batches);
    const job = await waitForJob(env, jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.processed, 8);

    const stored = await objects(env);
    const thumbs = [...stored.keys()].filter((k) => k.startsWith('test/thumbs/'));
    assert.equal(thumbs.length, 6, `one thumbnail per generated PNG: ${thumbs.join(', ')}`);
    for (const f of files) {
      assert.ok(stored.has(f.storage_key), `original ${f.storage_key} stored`);
      const tk = thumbnailKey(f.storage_key, 'test')!;
      if (f.drive_id === bigId || f.drive_id === badId) {
        assert.ok(!stored.has(tk), `no thumbnail for ${f.name}`);
        continue;
      }
      const meta = await sharp(stored.get(tk)!).metadata();
      assert.equal(meta.format, 'webp');
      assert.ok(Math.max(meta.width!, meta.height!) <= 320);
    }
    assert.equal(objectKey({ prefix: 'test', rootFolderId: root, folderPath: '', name: `${bigId}-big.jpg` }), files.find((f) => f.drive_id === bigId)!.storage_key);
    const rows = await jobFiles(env, jobId);
    assert.ok(rows.every((r) => r.status === 'stored'), 'every file imported, thumbnail or not');
    assert.equal(rows.length, 8);
    // The metadata-service recorded each key: the images API points at the thumbnail route.
    const listed = await metadataClient(env).call('GET', '/images', { query: { job_id: jobId, per_page: 100 }, schema: ImageListResponse });
    assert.equal(listed.images.length, 8);
    for (const img of listed.images) {
      const none = img.drive_id === bigId || img.drive_id === badId;
      assert.equal(img.thumbnail_key, none ? null : thumbnailKey(img.storage_key, 'test'), img.name);
      assert.equal(img.thumbnail_url, none ? null : `/api/images/${img.id}/thumbnail`);
    }
  } finally {
    await env.cleanup();
  }
});

test('thumbnails: a big image is scaled to 320 on its long side', async () => {
  const env = await setup({ tree: { files: 0, depth: 0, seed: 22 } });
  try {
    const png = await sharp({ create: { width: 1000, height: 400, channels: 3, background: '#3366aa' } }).png().toBuffer();
    env.emulator.tree.addFile(env.emulator.tree.rootId, 'wide.png', 'image/png', png);
    const { jobId, batches, files } = await createJob(env, { batchSize: 10, thumbnails: true });
    await env.startWorker();
    await enqueue(env, batches);
    assert.equal((await waitForJob(env, jobId)).status, 'completed');
    const stored = await objects(env);
    const meta = await sharp(stored.get(thumbnailKey(files[0]!.storage_key, 'test')!)!).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 320, 128]);
  } finally {
    await env.cleanup();
  }
});

test('thumbnails per job: one worker makes them for the job that asked, none for the one that did not', async () => {
  const env = await setup({ tree: { files: 5, depth: 0, seed: 23, imageBytes: 3000 } });
  try {
    const without = await createJob(env, { batchSize: 10 });
    const withThumbs = await createJob(env, { batchSize: 10, thumbnails: true });
    assert.equal(without.batches[0]!.thumbnails, false);
    assert.equal(withThumbs.batches[0]!.thumbnails, true);
    await env.startWorker();
    await enqueue(env, [...without.batches, ...withThumbs.batches]);
    const [a, b] = [await waitForJob(env, without.jobId), await waitForJob(env, withThumbs.jobId)];
    assert.deepEqual([a.status, a.thumbnails, b.status, b.thumbnails], ['completed', false, 'completed', true]);
    // Both jobs stored the same keys; only the one that asked has thumbnails on its rows.
    const stored = await objects(env);
    assert.equal([...stored.keys()].filter((k) => k.startsWith('test/thumbs/')).length, 5);
    for (const [job, want] of [[without, false], [withThumbs, true]] as const) {
      const listed = await metadataClient(env).call('GET', '/images', { query: { job_id: job.jobId, per_page: 100 }, schema: ImageListResponse });
      assert.equal(listed.images.length, 5);
      for (const img of listed.images) assert.equal(img.thumbnail_key !== null, want, `${img.name} of the job with thumbnails=${want}`);
    }
  } finally {
    await env.cleanup();
  }
});
