/** The walk on its own (real emulator over HTTP, real Redis pacer): what it hands over, and how often. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ListedFile } from '@drive-import/common';
import { createDriveClient, createDrivePacer, type DrivePacer } from '@drive-import/drive';
import { DriveTree, startDriveEmulator, type DriveEmulator } from '@drive-import/drive-emulator';
import { deletePrefix, findOrStartRedis, uniqueName, type RedisHandle } from '@drive-import/testing';
import { DriveCallError } from '../src/drive-call.ts';
import { walkFolderTree } from '../src/listing/walk.ts';
import { testLog } from './support.ts';

/** A walk of the emulator's tree with the options every test here uses. */
const walkOf = (emulator: DriveEmulator, pacer: DrivePacer, onFiles: (files: ListedFile[]) => Promise<void>, maxAttempts: number) =>
  walkFolderTree({
    drive: createDriveClient({ rootUrl: emulator.url }),
    pacer,
    log: testLog,
    concurrency: 4,
    rootFolderId: emulator.rootId,
    resourceKey: null,
    keyPrefix: 'pre/fix',
    onFiles,
    maxAttempts,
  });

describe('walkFolderTree', () => {
  let redis: RedisHandle;
  let emulator: DriveEmulator;
  let pacer: DrivePacer;
  const prefix = uniqueName('t');
  before(async () => {
    redis = await findOrStartRedis();
    // extras: text, PDF, a Google Doc, a trashed image, a shortcut to an image, a shortcut cycle, a two-parent image.
    emulator = await startDriveEmulator({ tree: { files: 400, depth: 3, foldersPerFolder: 3, seed: 3, extras: true, duplicateNames: true, oddNames: true }, faults: { maxPageSize: 7, emptyPageEvery: 2 } });
    pacer = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 100_000 });
  });
  after(async () => {
    await pacer.close();
    await emulator.close();
    await deletePrefix(redis.url, prefix);
    await redis.stop();
  });

  const walk = (onFiles: (files: ListedFile[]) => Promise<void>, faults = {}) => {
    emulator.setFaults({ maxPageSize: 7, emptyPageEvery: 2, ...faults });
    return walkOf(emulator, pacer, onFiles, 8);
  };

  it("hands over every expected image, each folder's once, with unique safe keys", async () => {
    const got: ListedFile[] = [];
    const stats = await walk(async (files) => {
      got.push(...files);
    });
    const expected = emulator.tree.expectedImages();
    assert.deepEqual([...new Set(got.map((f) => f.drive_id))].sort(), expected.map((e) => e.id).sort());
    // The walk keeps no set of every id (a million of them would not fit its memory budget): the
    // two-parent image and the root's shortcut to a deep image come once per folder, and the
    // metadata-service records each id once (the listing tests check the rows).
    assert.equal(got.length, expected.length + 2, 'the two-parent image and the shortcut target come twice');
    assert.equal(new Set(got.map((f) => f.storage_key)).size, got.length, 'keys are unique');
    for (const f of got) {
      assert.ok(f.storage_key.startsWith(`pre/fix/${emulator.rootId}/`), f.storage_key);
      assert.ok(!f.storage_key.split('/').includes('..'), f.storage_key);
      assert.ok(Buffer.byteLength(f.storage_key) <= 1024);
    }
    assert.ok(stats.skipped.folderSeen >= 1, 'the cycle back to the root is not walked');
    assert.ok(stats.skipped.notImage >= 3, 'text, PDF, Google Doc');
  });

  it('rides out rate limits and server errors', async () => {
    const got: string[] = [];
    await walk(
      async (files) => {
        got.push(...files.map((f) => f.drive_id));
      },
      { errorRate: { list: 0.2, get: 0.2 }, errorStatuses: [403, 429, 500, 503], seed: 9 },
    );
    assert.deepEqual([...new Set(got)].sort(), emulator.tree.expectedImages().map((e) => e.id).sort());
    assert.ok(emulator.stats().rateLimited > 0, 'some answers were rate limits');
  });

  it('fails with the Drive reason when the root cannot be listed', async () => {
    await assert.rejects(
      // (The emulator's failNext cannot target one folder's listing: failNext.fileId only matches gets.)
      walk(async () => {}, { failNext: { count: 1000, status: 404, reason: 'notFound', kind: 'list' } }),
      (err: unknown) => err instanceof DriveCallError && err.failure.status === 404 && !err.failure.retryable,
    );
  });
});

describe('walkFolderTree failing part way', () => {
  it('a shortcut target that runs out of retries fails the walk cleanly: no subfolder walk is left unhandled', async () => {
    const redis = await findOrStartRedis();
    const prefix = uniqueName('t');
    // Shortcuts in the root and in a subfolder whose targets cannot be read (500 on every get).
    const tree = DriveTree.fromList([
      { type: 'image', path: 'a/deep/t1.png' },
      { type: 'image', path: 'a/deep/t2.png' },
      { type: 'shortcut', path: 'r.png', target: 'a/deep/t1.png' },
      { type: 'shortcut', path: 'a/s.png', target: 'a/deep/t2.png' },
      { type: 'image', path: 'b/x.png' },
    ]);
    const emulator = await startDriveEmulator({ tree, faults: { failNext: { count: 100_000, status: 500, kind: 'get' } } });
    const pacer = createDrivePacer({ redisUrl: redis.url, prefix, maxPerSecond: 100_000 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await assert.rejects(
        walkOf(emulator, pacer, async () => {}, 2),
        (err: unknown) => err instanceof DriveCallError && err.failure.status === 500,
      );
      // Long enough for every sibling walk still running to settle.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await pacer.close();
      await emulator.close();
      await deletePrefix(redis.url, prefix);
      await redis.stop();
    }
  });
});
