import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { classifyDriveError } from '@drive-import/drive';
import { maxInWindow, startDriveEmulator, type DriveEmulator } from '../src/index.ts';
import { client, download, md5, rejection } from './helpers.ts';

let em: DriveEmulator;
before(async () => {
  em = await startDriveEmulator({ tree: { seed: 3, depth: 1, foldersPerFolder: 2, filesPerFolder: 10, imageBytes: 20_000 } });
});
after(() => em.close());
beforeEach(() => {
  em.setFaults({});
  em.resetStats();
});

const images = () => em.tree.expectedImages();
const q = () => `'${em.rootId}' in parents and trashed = false`;

test('failNext: a burst of 403 userRateLimitExceeded, classified rate-limited, then success', async () => {
  const drive = client(em.url);
  const id = images()[0]!.id;
  em.setFaults({ failNext: { count: 2, status: 403, reason: 'userRateLimitExceeded', kind: 'media' } });
  await drive.files.list({ q: q() }); // another kind: not part of the burst
  for (let i = 0; i < 2; i++) {
    const f = classifyDriveError(await rejection(download(drive, id)));
    assert.equal(f.status, 403);
    assert.equal(f.reason, 'userRateLimitExceeded');
    assert.equal(f.rateLimited, true);
    assert.equal(f.retryable, true);
  }
  assert.equal(md5((await download(drive, id)).bytes), images()[0]!.md5);
  assert.equal(em.stats().rateLimited, 2);
});

test('Drive error body shape, and 429 with Retry-After', async () => {
  em.setFaults({ failNext: { count: 1, status: 403 }, retryAfterSeconds: 2 });
  const res = await fetch(`${em.url}drive/v3/files?q=${encodeURIComponent(q())}`);
  assert.equal(res.status, 403);
  assert.deepEqual(await res.json(), {
    error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }] },
  });
  em.setFaults({ failNext: { count: 1, status: 429 }, retryAfterSeconds: 2 });
  const f = classifyDriveError(await rejection(client(em.url).files.list({ q: q() })));
  assert.equal(f.status, 429);
  assert.equal(f.rateLimited, true);
  assert.equal(f.retryAfterMs, 2000);
});

test('random error rates per kind, deterministic with a seed', async () => {
  const drive = client(em.url);
  const id = images()[0]!.id;
  em.setFaults({ errorRate: { get: 1 }, errorStatuses: [500, 503] });
  await drive.files.list({ q: q() });
  await download(drive, id);
  for (let i = 0; i < 4; i++) {
    const f = classifyDriveError(await rejection(drive.files.get({ fileId: id })));
    assert.ok(f.status === 500 || f.status === 503);
    assert.equal(f.retryable, true);
  }
  const outcomes = async () => {
    em.setFaults({ errorRate: 0.5, seed: 42 });
    const out: number[] = [];
    for (let i = 0; i < 20; i++) out.push(await drive.files.get({ fileId: id }).then(() => 200, (e: unknown) => classifyDriveError(e).status ?? 0));
    return out;
  };
  const first = await outcomes();
  assert.deepEqual(await outcomes(), first);
  assert.ok(first.includes(200) && first.some((s) => s !== 200));
});

test('quotaPerSecond: requests beyond N in a second answer 429 rateLimitExceeded (or 403 when asked)', async () => {
  const drive = client(em.url);
  em.setFaults({ quotaPerSecond: 5 });
  const results = await Promise.all(Array.from({ length: 15 }, () => drive.files.get({ fileId: em.rootId }).then(() => 200, (e: unknown) => classifyDriveError(e))));
  const ok = results.filter((r) => r === 200).length;
  const limited = results.filter((r) => r !== 200) as Array<ReturnType<typeof classifyDriveError>>;
  // All 15 arrive well within a second on loopback; a very slow machine could let a few more through.
  assert.ok(ok >= 5 && ok <= 10, `ok ${ok}`);
  assert.ok(limited.every((f) => f.status === 429 && f.reason === 'rateLimitExceeded' && f.rateLimited));
  em.setFaults({ quotaPerSecond: 1, quotaStatus: 403 });
  await drive.files.get({ fileId: em.rootId });
  const f = classifyDriveError(await rejection(drive.files.get({ fileId: em.rootId })));
  assert.equal(f.status, 403);
  assert.equal(f.reason, 'rateLimitExceeded');
  assert.equal(f.rateLimited, true);
});

test('permanent faults: 403 cannotDownloadAbusiveFile on media only, 404 on everything', async () => {
  const drive = client(em.url);
  const [a, b] = images();
  em.setFaults({ permanent: { [a!.id]: { status: 403, reason: 'cannotDownloadAbusiveFile', kind: 'media' }, [b!.id]: { status: 404, reason: 'notFound' } } });
  for (let i = 0; i < 3; i++) {
    const f = classifyDriveError(await rejection(download(drive, a!.id)));
    assert.equal(f.status, 403);
    assert.equal(f.reason, 'cannotDownloadAbusiveFile');
    assert.equal(f.retryable, false);
  }
  assert.equal((await drive.files.get({ fileId: a!.id, fields: 'id' })).data.id, a!.id);
  const nf = classifyDriveError(await rejection(drive.files.get({ fileId: b!.id })));
  assert.equal(nf.status, 404);
  assert.equal(nf.reason, 'notFound');
  assert.equal(classifyDriveError(await rejection(download(drive, b!.id))).status, 404);
});

test('corruption: same length, different md5; corruptFirstDownloadOf corrupts only the first', async () => {
  const drive = client(em.url);
  const [a, b] = images();
  em.setFaults({ corruptFirstDownloadOf: [a!.id] });
  const first = await download(drive, a!.id);
  assert.equal(first.bytes.length, a!.size);
  assert.notEqual(md5(first.bytes), a!.md5);
  assert.equal(md5((await download(drive, a!.id)).bytes), a!.md5);
  em.setFaults({ corruptRate: 1 });
  for (let i = 0; i < 2; i++) {
    const got = await download(drive, b!.id);
    assert.equal(got.bytes.length, b!.size);
    assert.notEqual(md5(got.bytes), b!.md5);
  }
  assert.equal(md5(em.tree.bytesOf(b!.id)), b!.md5, 'the shared image parts were not touched');
  assert.equal(em.stats().corrupted, 3);
});

test('dropConnectionRate: the body stops halfway; the client sees a retryable network error', async () => {
  const drive = client(em.url);
  const a = images()[0]!;
  em.setFaults({ dropConnectionRate: 1 });
  const err = await rejection(download(drive, a.id));
  const f = classifyDriveError(err);
  assert.equal(f.status === null || f.status === 200, true, `status ${f.status}`);
  assert.equal(f.retryable, true, `${f.reason} ${f.message}`);
  assert.equal(em.stats().dropped, 1);
  em.setFaults({});
  assert.equal(md5((await download(drive, a.id)).bytes), a.md5);
});

test('latency and slow bodies take at least the time they promise', async () => {
  const drive = client(em.url);
  const a = images()[0]!;
  em.setFaults({ latencyMs: { get: 150 } });
  let t = performance.now();
  await drive.files.get({ fileId: a.id });
  assert.ok(performance.now() - t >= 140);
  t = performance.now();
  await drive.files.list({ q: q() }); // other kinds are not delayed (no upper bound checked)
  em.setFaults({ slowBodyBytesPerSecond: 40_000 });
  t = performance.now();
  const got = await download(drive, a.id);
  assert.equal(md5(got.bytes), a.md5);
  assert.ok(performance.now() - t >= (a.size / 40_000) * 1000 * 0.8, 'throttled');
});

test('faults over HTTP: POST replaces them, GET shows them, a bad body is a 400', async () => {
  const set = await fetch(`${em.url}__emulator/faults`, { method: 'POST', body: JSON.stringify({ failNext: { count: 1, status: 503 } }) });
  assert.equal(set.status, 200);
  const drive = client(em.url);
  assert.equal(classifyDriveError(await rejection(drive.files.get({ fileId: em.rootId }))).status, 503);
  await drive.files.get({ fileId: em.rootId });
  const now = (await (await fetch(`${em.url}__emulator/faults`)).json()) as { failNext: { count: number } };
  assert.equal(now.failNext.count, 0);
  for (const body of ['{"latencyMS": 5}', '{"errorRate": 2}', 'not json']) {
    assert.equal((await fetch(`${em.url}__emulator/faults`, { method: 'POST', body })).status, 400, body);
  }
});

test('maxInWindow counts the busiest window', () => {
  assert.equal(maxInWindow([], 1000), 0);
  assert.equal(maxInWindow([0, 10, 20, 1500, 1600, 1700, 1800, 3000], 1000), 4);
  assert.equal(maxInWindow([0, 999, 1000], 1000), 2);
});
