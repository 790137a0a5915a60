import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import { AddFilesResponse, ImageListResponse, JobSummary, ListingCompleteResponse, objectKey, type ListedFile } from '@drive-import/common';
import sharp from 'sharp';
import { cameraFromHead, EXIF_HEAD_BYTES, HeadTap, wantsExifCamera } from '../src/photo-metadata.ts';
import { metadataClient, setup, sharedRedis, waitForJob } from './support.ts';

after(async () => (await sharedRedis()).stop());

/** A real JPEG of about 2 MB (noise does not compress) with Make and Model in its EXIF. */
const jpegWithCamera = (make: string, model: string, width = 2000) =>
  sharp({ create: { width, height: Math.round(width * 0.75), channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Make: make, Model: model } })
    .toBuffer();

test('cameraFromHead: Make and Model from the first 64 KB of a big JPEG; null without EXIF or for garbage', async () => {
  const jpg = await jpegWithCamera('NIKON CORPORATION', 'NIKON D850');
  assert.ok(jpg.length > 4 * EXIF_HEAD_BYTES);
  assert.deepEqual(await cameraFromHead(jpg.subarray(0, EXIF_HEAD_BYTES)), { camera_make: 'NIKON CORPORATION', camera_model: 'NIKON D850' });
  const plain = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#102030' } }).jpeg().toBuffer();
  assert.equal(await cameraFromHead(plain), null);
  assert.equal(await cameraFromHead(Buffer.from('not an image at all')), null);
  assert.equal(await cameraFromHead(jpg.subarray(0, 40)), null, 'cut inside the EXIF segment');
});

test('HeadTap passes every byte on and keeps only the first maxBytes', async () => {
  const data = Buffer.alloc(300_000, 7);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  const tap = new HeadTap(100_000);
  const out: Buffer[] = [];
  const chunks = Array.from({ length: 30 }, (_, i) => data.subarray(i * 10_000, (i + 1) * 10_000));
  await pipeline(Readable.from(chunks), tap, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  assert.deepEqual(Buffer.concat(out), data);
  assert.deepEqual(tap.firstBytes(), data.subarray(0, 100_000));
});

test('wantsExifCamera: JPEG/TIFF/HEIC that Drive gave no camera for; never PNGs or files Drive described', () => {
  const file = { drive_id: 'x'.repeat(12), name: 'a.jpg', mime_type: 'image/jpeg', size: 1, md5: null, storage_key: 'k' };
  assert.equal(wantsExifCamera(file), true);
  assert.equal(wantsExifCamera({ ...file, mime_type: 'image/HEIC' }), true);
  assert.equal(wantsExifCamera({ ...file, has_camera: true }), false);
  assert.equal(wantsExifCamera({ ...file, mime_type: 'image/png' }), false);
});

test('the worker records the EXIF camera of a photo Drive gave none for, and keeps the camera Drive gave', async () => {
  const env = await setup({ tree: { files: 1, depth: 0, seed: 51, imageBytes: 2000 } });
  try {
    const tree = env.emulator.tree;
    const root = tree.rootId;
    const exifOnly = tree.addFile(root, 'nikon.jpg', 'image/jpeg', await jpegWithCamera('NIKON CORPORATION', 'NIKON D850'));
    const both = tree.addFile(root, 'canon.jpg', 'image/jpeg', await jpegWithCamera('EXIF Make', 'EXIF Model', 400));
    const files: ListedFile[] = tree.expectedImages().map((img) => ({
      drive_id: img.id,
      name: img.name,
      folder_path: img.folderPath,
      mime_type: img.mimeType,
      size: img.size,
      md5: img.md5,
      modified_time: img.modifiedTime,
      width: null,
      height: null,
      taken_at: null,
      // Drive's imageMediaMetadata for canon.jpg names the camera: the worker reads no EXIF for it.
      ...(img.id === both ? { camera_make: 'Canon', camera_model: 'Canon EOS R5' } : {}),
      storage_key: objectKey({ prefix: 'test', rootFolderId: root, folderPath: img.folderPath, name: `${img.id}-${img.name}` }),
    }));
    assert.equal(files.length, 3);
    const meta = metadataClient(env);
    const job = await meta.call('POST', '/jobs', { body: { folder_id: root, folder_name: 'root', resource_key: null, destination: 's3', batch_size: 10 }, schema: JobSummary });
    await meta.call('PATCH', `/jobs/${job.job_id}`, { body: { status: 'listing' } });
    await meta.call('POST', `/jobs/${job.job_id}/files`, { body: { files }, schema: AddFilesResponse });
    await meta.call('POST', `/jobs/${job.job_id}/listing-complete`, { schema: ListingCompleteResponse });
    // The metadata-service enqueued the batch itself.
    await env.startWorker();
    assert.equal((await waitForJob(env, job.job_id)).status, 'completed');

    const { images } = await meta.call('GET', '/images', { query: { job_id: job.job_id }, schema: ImageListResponse });
    const camera = new Map(images.map((i) => [i.drive_id, [i.camera_make, i.camera_model]]));
    assert.deepEqual(camera.get(exifOnly), ['NIKON CORPORATION', 'NIKON D850'], 'from the EXIF going by');
    assert.deepEqual(camera.get(both), ['Canon', 'Canon EOS R5'], "Drive's camera, not the file's EXIF");
    const png = images.find((i) => i.mime_type === 'image/png')!;
    assert.deepEqual(camera.get(png.drive_id), [null, null]);
    const found = await meta.call('GET', '/images', { query: { job_id: job.job_id, camera: 'd850' }, schema: ImageListResponse });
    assert.deepEqual(found.images.map((i) => i.drive_id), [exifOnly]);
  } finally {
    await env.cleanup();
  }
});
