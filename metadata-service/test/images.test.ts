// The image catalog routes over the real SQLite: list (keyset, OFFSET pages, filters, totals from
// counters), get, lookup, remove (counters, stored_objects, re-import copies again), owner scoping,
// stats, and /images/all streaming 100,000 rows in bounded memory.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, OWNER_HEADER } from '@drive-import/common';
import { createMetadataApp } from '../src/app.ts';
import { files, FOLDER_ID, freshService, listedFile, stored, type TestService } from './support.ts';

let svc: TestService;
let app: ReturnType<typeof createMetadataApp>;

before(async () => {
  svc = await freshService();
  app = createMetadataApp({ db: svc.db, log: createLogger('images-test', 'silent'), dispatcher: svc.dispatcher });
});
after(async () => {
  await svc?.close();
});

async function call(method: string, path: string, { body, owner, accept }: { body?: unknown; owner?: string; accept?: string } = {}) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (owner) headers[OWNER_HEADER] = owner;
  if (accept) headers.accept = accept;
  const res = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as any };
}

/** A job of `owner` with `count` files from `from`, all stored (batches of 50). */
async function importedJob(owner: string | null, from: number, count: number, overrides: (n: number) => Parameters<typeof listedFile>[1] = () => ({})) {
  const job = await call('POST', '/jobs', { body: { folder_id: FOLDER_ID, folder_name: 'Photos', destination: 's3', batch_size: 50, owner } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const id = job.body.job_id as string;
  const listed = Array.from({ length: count }, (_, i) => listedFile(from + i, overrides(from + i)));
  const added = await call('POST', `/jobs/${id}/files`, { body: { files: listed } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  await call('POST', `/jobs/${id}/listing-complete`);
  for (let b = 0; b * 50 < count; b++) {
    const results = listed.slice(b * 50, b * 50 + 50).map(stored);
    const r = await call('POST', `/batches/${id}-b${b}/results`, { body: { job_id: id, results } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  return { id, listed };
}

let alice: Awaited<ReturnType<typeof importedJob>>;
let bob: Awaited<ReturnType<typeof importedJob>>;

test('list: keyset and OFFSET pages, filters, totals from the counters, owner scoping', async () => {
  alice = await importedJob('alice', 0, 120, (n) => (n % 4 === 0 ? { mime_type: 'image/png', name: `IMG_${n}.png`, folder_path: 'Photos/2024/png' } : {}));
  bob = await importedJob('bob', 1000, 30);

  const first = await call('GET', `/images?per_page=50&job_id=${alice.id}`);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.images.length, 50);
  assert.equal(first.body.total, 120);
  assert.equal(first.body.total_exact, true);
  assert.equal(first.body.page, 1);
  const img = first.body.images[0];
  assert.deepEqual(Object.keys(img).sort(), ['camera_make', 'camera_model', 'created_at', 'destination', 'drive_id', 'folder_path', 'height', 'id', 'job_id', 'md5', 'mime_type', 'name', 'size', 'storage_key', 'taken_at', 'thumbnail_key', 'thumbnail_url', 'url', 'width'].sort());
  assert.equal(img.url, `/api/images/${img.id}/content`);
  assert.equal(img.thumbnail_url, null);
  assert.equal(img.destination, 's3');

  // Keyset through the whole job: every image once, in id order.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await call('GET', `/images?per_page=50&job_id=${alice.id}${cursor ? `&cursor=${cursor}` : ''}`);
    for (const i of page.body.images) seen.push(i.id);
    cursor = page.body.next_cursor;
  } while (cursor);
  assert.equal(seen.length, 120);
  assert.deepEqual([...seen].sort((a, b) => Number(a) - Number(b)), seen);

  // OFFSET page 2 = the keyset's second page; newest first reverses.
  const page2 = await call('GET', `/images?per_page=50&page=2&job_id=${alice.id}`);
  assert.deepEqual(page2.body.images.map((i: any) => i.id), seen.slice(50, 100));
  const newest = await call('GET', `/images?per_page=10&sort=-created_at&job_id=${alice.id}`);
  assert.deepEqual(newest.body.images.map((i: any) => i.id), [...seen].reverse().slice(0, 10));
  const deep = await call('GET', '/images?per_page=1000&page=12');
  assert.equal(deep.status, 400);
  assert.equal(deep.body.error.code, 'page_too_deep');

  // Filters: a bounded count.
  const png = await call('GET', '/images?mime=image/png');
  assert.equal(png.body.total, 30);
  assert.ok(png.body.images.every((i: any) => i.mime_type === 'image/png'));
  assert.equal((await call('GET', '/images?mime=image/*')).body.total, 150);
  assert.equal((await call('GET', '/images?folder=Photos/2024/png')).body.total, 30);
  assert.equal((await call('GET', '/images?folder=Photos')).body.total, 150);
  assert.equal((await call('GET', '/images?q=img_1000')).body.total, 1);

  // All jobs (admin) vs a token's own.
  assert.equal((await call('GET', '/images')).body.total, 150);
  const mine = await call('GET', '/images?per_page=1000', { owner: 'bob' });
  assert.equal(mine.body.total, 30);
  assert.ok(mine.body.images.every((i: any) => i.job_id === bob.id));
  const other = first.body.images[0].id;
  assert.equal((await call('GET', `/images/${other}`, { owner: 'bob' })).status, 404);
  assert.equal((await call('GET', `/images/${other}`, { owner: 'alice' })).body.id, other);
  assert.equal((await call('POST', '/images/lookup', { body: { ids: [other] }, owner: 'bob' })).body.images.length, 0);
  assert.equal((await call('POST', '/images/remove', { body: { ids: [other] }, owner: 'bob' })).body.not_found[0], other);
  assert.equal((await call('GET', `/images/${other}`)).status, 200, 'still there');
});

test('remove: rows, counters and stored_objects go; a re-import copies the file again; stats follow', async () => {
  const before = await call('GET', '/stats');
  assert.equal(before.body.total_images, 150);
  assert.equal(before.body.aws_images, 150);
  assert.equal(before.body.azure_images, 0);
  assert.equal(before.body.stores.s3.files, 150);
  const bytes = [...alice.listed, ...bob.listed].reduce((n, f) => n + f.size!, 0);
  assert.equal(before.body.total_size_bytes, bytes);
  assert.equal(before.body.days.length, 1);
  assert.equal(before.body.days[0].files, 150);
  assert.equal(before.body.jobs.length, 2);
  assert.equal((await call('GET', '/stats', { owner: 'bob' })).body.total_images, 30);

  const list = await call('GET', `/images?per_page=2&job_id=${bob.id}`);
  const [a, b] = list.body.images;
  const removed = await call('POST', '/images/remove', { body: { ids: [a.id, b.id, '999999'] } });
  assert.deepEqual(removed.body, { removed: [a.id, b.id], not_found: ['999999'] });
  const again = await call('POST', '/images/remove', { body: { ids: [a.id] } });
  assert.deepEqual(again.body, { removed: [], not_found: [a.id] }, 'idempotent');

  const job = await call('GET', `/jobs/${bob.id}`);
  assert.equal(job.body.total, 28);
  assert.equal(job.body.processed, 28);
  assert.equal(job.body.bytes_done, bob.listed.slice(2).reduce((n, f) => n + f.size!, 0));
  assert.equal((await call('GET', `/images?job_id=${bob.id}`)).body.total, 28);
  assert.equal((await call('GET', '/stats')).body.total_images, 148);
  assert.equal((await call('GET', `/stored-objects?destination=s3&key=${encodeURIComponent(a.storage_key)}`)).status, 404);

  // A new import of the same folder: the two removed files are copied again, the rest skipped.
  const job2 = await call('POST', '/jobs', { body: { folder_id: FOLDER_ID, folder_name: 'Photos', destination: 's3', batch_size: 50, owner: 'bob' } });
  const added = await call('POST', `/jobs/${job2.body.job_id}/files`, { body: { files: files(1000, 30) } });
  assert.equal(added.body.inserted, 30);
  assert.equal(added.body.skipped_unchanged, 28);
});

test('/images/all streams 100,000 images in bounded memory (NDJSON and JSON array)', async () => {
  const job = await call('POST', '/jobs', { body: { folder_id: FOLDER_ID, folder_name: 'Big', destination: 'azure', batch_size: 100, owner: 'carol' } });
  const id = job.body.job_id as string;
  const N = 100_000;
  const now = new Date().toISOString();
  await svc.db.transaction(async (tx) => {
    await tx.$executeRawUnsafe(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N})
       INSERT INTO "files" ("job_id", "drive_id", "name", "folder_path", "mime_type", "size", "md5", "status", "storage_provider", "storage_key", "created_at", "updated_at")
       SELECT '${id}', printf('big%010dxx', i), printf('IMG_%d.jpg', i), 'Big/Folder', 'image/jpeg', 123456, '0123456789abcdef0123456789abcdef',
         'stored', 'azure', printf('drive-import/big/Folder/IMG_%d.jpg', i), '${now}', '${now}' FROM n`,
    );
    await tx.importJob.update({ where: { id }, data: { totalFiles: N, storedFiles: N, bytesTotal: BigInt(N * 123456), bytesDone: BigInt(N * 123456) } });
  });

  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (const accept of ['application/x-ndjson', 'application/json']) {
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    const res = await app.request('/images/all', { headers: { [OWNER_HEADER]: 'carol', accept } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), accept);
    const decoder = new TextDecoder();
    let bytes = 0;
    let lines = 0;
    let head = '';
    let tail = '';
    let chunks = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      const text = decoder.decode(chunk, { stream: true });
      if (head.length < 2000) head += text.slice(0, 2000);
      tail = (tail + text).slice(-2000);
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
      // Retained memory, not garbage: collect now and then and measure what survives.
      if (++chunks % 10 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    if (accept === 'application/x-ndjson') {
      assert.equal(lines, N);
      assert.equal(JSON.parse(head.slice(0, head.indexOf('\n'))).name, 'IMG_1.jpg');
    } else {
      assert.ok(head.startsWith('[{') && tail.endsWith('}]'));
      assert.ok(tail.includes('"IMG_100000.jpg"'));
    }
    console.log(`/images/all ${accept}: ${bytes} bytes, ${chunks} chunks, retained heap peak +${Math.round(peak / 1e6)} MB`);
    assert.ok(bytes > 30_000_000, `answer is ${bytes} bytes`);
    // Buffered, the answer alone would be `bytes` (plus its 100,000 row objects) held at once.
    assert.ok(chunks > 40, 'streamed in many chunks');
    assert.ok(peak < bytes / 4, `heap grew ${peak} bytes while streaming ${bytes}`);
  }
});
