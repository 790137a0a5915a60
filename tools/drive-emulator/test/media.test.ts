import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { startDriveEmulator, type DriveEmulator } from '../src/index.ts';
import { client, download, listAll, md5 } from './helpers.ts';

let em: DriveEmulator;
before(async () => {
  em = await startDriveEmulator({ tree: { seed: 9, files: 60, depth: 1, folders: 4, imageBytes: 30_000, extras: true } });
});
after(() => em.close());

test('downloads hash to the listed md5, have the listed size and are valid PNGs of the listed dimensions', async () => {
  const drive = client(em.url);
  const listed = (await listAll(drive, `'${em.rootId}' in parents and mimeType contains 'image/' and trashed = false`, 1000, 'files(id,size,md5Checksum,mimeType,imageMediaMetadata)')).files;
  assert.ok(listed.length >= 10);
  const md5s = new Set<string>();
  for (const f of listed) {
    const { status, bytes, headers } = await download(drive, f.id!);
    assert.equal(status, 200);
    assert.equal(headers['content-type'], 'image/png');
    assert.equal(Number(headers['content-length']), bytes.length);
    assert.equal(String(bytes.length), f.size);
    assert.equal(md5(bytes), f.md5Checksum);
    const png = PNG.sync.read(bytes);
    assert.equal(png.width, f.imageMediaMetadata!.width);
    assert.equal(png.height, f.imageMediaMetadata!.height);
    assert.ok(Math.abs(bytes.length - 30_000) < 3_000, `about imageBytes: ${bytes.length}`);
    md5s.add(f.md5Checksum!);
  }
  assert.equal(md5s.size, listed.length, 'every image is different');
});

test('expectedImages: bytesOf matches md5 and size', () => {
  const expected = em.tree.expectedImages();
  assert.equal(expected.length, 60);
  for (const e of expected.slice(0, 10)) {
    const bytes = em.tree.bytesOf(e.id);
    assert.equal(md5(bytes), e.md5);
    assert.equal(bytes.length, e.size);
  }
});

test('Range requests answer 206 with the slice; non-image files download as they are', async () => {
  const drive = client(em.url);
  const e = em.tree.expectedImages()[0]!;
  const whole = em.tree.bytesOf(e.id);
  const part = await download(drive, e.id, { Range: 'bytes=100-199' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 100-199/${whole.length}`);
  assert.deepEqual(part.bytes, whole.subarray(100, 200));
  const tailPart = await download(drive, e.id, { Range: 'bytes=-10' });
  assert.deepEqual(tailPart.bytes, whole.subarray(whole.length - 10));
  const bad = await fetch(`${em.url}drive/v3/files/${e.id}?alt=media`, { headers: { range: `bytes=${whole.length}-` } });
  assert.equal(bad.status, 416);
  await bad.arrayBuffer();

  const text = (await listAll(drive, `'${em.rootId}' in parents and mimeType = 'text/plain'`)).files[0]!;
  const got = await download(drive, text.id!);
  assert.equal(got.headers['content-type'], 'text/plain');
  assert.equal(md5(got.bytes), text.md5Checksum);
});

test('stats count requests by kind and status, downloads per file, and reset', async () => {
  em.resetStats();
  const drive = client(em.url);
  const e = em.tree.expectedImages()[1]!;
  await download(drive, e.id);
  await download(drive, e.id);
  await drive.files.get({ fileId: e.id });
  await drive.files.list({ q: `'${em.rootId}' in parents` });
  await fetch(`${em.url}drive/v3/files/nope_nope_nope`).then((r) => r.arrayBuffer());
  const s = em.stats();
  assert.equal(s.total, 5);
  assert.deepEqual(s.byKind, { list: 1, get: 2, media: 2, other: 0 });
  assert.deepEqual(s.byStatus, { 200: 4, 404: 1 });
  assert.equal(s.downloads[e.id], 2);
  assert.equal(s.media, 2);
  assert.equal(s.timestamps.length, 5);
  assert.equal(s.maxInWindow(60_000), 5);
  assert.equal(s.maxInWindow(60_000, 'media'), 2);
  const http = (await (await fetch(`${em.url}__emulator/stats?window_ms=60000`)).json()) as Record<string, unknown>;
  assert.equal(http.total, 5);
  assert.equal(http.maxInWindow, 5);
  assert.equal((await fetch(`${em.url}__emulator/reset-stats`, { method: 'POST' })).status, 200);
  assert.equal(em.stats().total, 0);
  const tree = (await (await fetch(`${em.url}__emulator/tree`)).json()) as Record<string, unknown>;
  assert.equal(tree.rootId, em.rootId);
  assert.equal(tree.expectedImages, 60);
});
