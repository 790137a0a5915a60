/**
 * The listing job end to end: the real import-service (HTTP + listing worker), the Drive emulator,
 * a real metadata-service and Redis. Nobody consumes the copy queue here, so every batch the listing
 * enqueued is still on it to be checked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FileRecord, JobSummary } from '@drive-import/common';
import { freePort, waitFor } from '@drive-import/testing';
import { startImportService } from '../src/index.ts';
import { allFiles, copyBatches, getJob, importFolder, startParts, testLog, waitListed, type Parts } from './support.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TREE = { files: 2500, depth: 3, seed: 11, duplicateNames: true } as const;
// Short pages (never more than 37 items) and every 3rd page empty but with a nextPageToken.
const FAULTS = { maxPageSize: 37, emptyPageEvery: 3 };

/** The listing is right: one row per image, 25 batches of <= 100, every file in exactly one batch. */
async function checkListing(parts: Parts, job: JobSummary) {
  const expected = parts.emulator.tree.expectedImages();
  assert.equal(expected.length, 2500);
  assert.equal(job.total, 2500);
  assert.equal(job.listing_complete, true);

  const rows = await allFiles(parts, job.job_id);
  assert.equal(rows.length, 2500, 'file rows');
  const byId = new Map<string, FileRecord>(rows.map((r) => [r.id, r]));
  assert.equal(byId.size, 2500, 'no drive id twice');
  assert.deepEqual([...byId.keys()].sort(), expected.map((e) => e.id).sort());
  assert.equal(new Set(rows.map((r) => r.storage_key)).size, 2500, 'duplicate names still get distinct keys');
  for (const e of expected) {
    const r = byId.get(e.id)!;
    assert.equal(r.size, e.size);
    assert.equal(r.md5, e.md5);
    assert.equal(r.width, e.width);
    assert.equal(r.taken_at, e.takenAt);
    assert.ok(r.storage_key.startsWith(`drive-import/${parts.emulator.rootId}/`), r.storage_key);
  }

  const batches = await copyBatches(parts);
  assert.equal(batches.size, 25, 'copy batches on the queue');
  const seen = new Map<string, string>();
  for (const [jobId, batch] of batches) {
    assert.equal(jobId, batch.batch_id, 'BullMQ job id = batch id');
    assert.equal(batch.job_id, job.job_id);
    assert.ok(batch.files.length >= 1 && batch.files.length <= 100, `batch ${jobId} has ${batch.files.length} files`);
    for (const f of batch.files) {
      assert.ok(!seen.has(f.drive_id), `${f.drive_id} is in ${seen.get(f.drive_id)} and ${jobId}`);
      seen.set(f.drive_id, jobId);
      assert.equal(f.storage_key, byId.get(f.drive_id)?.storage_key);
    }
  }
  assert.equal(seen.size, 2500, 'every file in exactly one batch');
  assert.deepEqual([...batches.keys()].sort(), Array.from({ length: 25 }, (_, i) => `${job.job_id}-b${i}`).sort());
}

describe('listing a 2,500-file tree (3 levels, short and empty pages, duplicate names)', () => {
  let parts: Parts;
  before(async () => {
    parts = await startParts(TREE, FAULTS);
    // The emulator makes each PNG (and its md5) on first use, in this process: do it now, so the
    // walk is measured on its own and the emulator's CPU work does not stall BullMQ's lock renewal.
    parts.emulator.tree.expectedImages();
  });
  after(async () => {
    await parts.close();
  });

  it('records exactly 2,500 files and 25 batches, every file in one batch', async () => {
    const service = await startImportService(parts.config(), { port: 0, log: testLog });
    try {
      const started = performance.now();
      const accepted = await importFolder(service.url, parts.emulator.folderUrl);
      const job = await waitListed(parts, accepted.job_id);
      const seconds = (performance.now() - started) / 1000;
      const stats = parts.emulator.stats();
      // Reported, not asserted: tests check behaviour, not timing.
      console.log(`# listed 2,500 files in ${seconds.toFixed(2)} s (${Math.round(2500 / seconds)} files/s, ${stats.byKind.list} list calls)`);
      await checkListing(parts, job);
      // Empty pages were served and paged past: more list calls than folders.
      assert.ok(stats.byKind.list > 2500 / 37, `list calls: ${stats.byKind.list}`);
    } finally {
      await service.close();
    }
  });
});

describe('a listing killed half way (SIGKILL) and taken over by another process', () => {
  let parts: Parts;
  before(async () => {
    parts = await startParts(TREE, FAULTS);
    // The emulator makes each PNG (and its md5) on first use, in this process: do it now, so the
    // walk is measured on its own and the emulator's CPU work does not stall BullMQ's lock renewal.
    parts.emulator.tree.expectedImages();
  });
  after(async () => {
    await parts.close();
  });

  it('ends with the same 2,500 rows and 25 batches, none twice', async () => {
    const port = await freePort();
    // Slow enough to be killed mid-walk, with small chunks so rows appear early; a 1 s lock so the
    // dead process's job is free to take over soon.
    const child = spawn(process.execPath, ['--import', 'tsx', 'import-service/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...parts.env,
        IMPORT_SERVICE_PORT: String(port),
        DRIVE_MAX_REQUESTS_PER_SECOND: '40',
        LISTING_CHUNK_SIZE: '100',
        LISTING_LOCK_DURATION_MS: '1000',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let service: Awaited<ReturnType<typeof startImportService>> | undefined;
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the child import-service', async () => (await fetch(`${url}/health`)).ok, 60_000, 100);
      const accepted = await importFolder(url, parts.emulator.folderUrl);

      const midway = await waitFor('some files recorded', async () => {
        const job = await getJob(parts, accepted.job_id);
        return job.total >= 500 ? job : null;
      });
      child.kill('SIGKILL');
      await exited;
      const atKill = await getJob(parts, accepted.job_id);
      assert.equal(atKill.listing_complete, false, 'killed before the listing finished');
      assert.ok(atKill.total < 2500, `killed half way (${atKill.total} rows at kill, ${midway.total} when seen)`);
      const batchesAtKill = (await copyBatches(parts)).size;
      assert.ok(batchesAtKill >= 1, 'some batches were enqueued before the kill');

      // Another process: its stalled check finds the dead process's job and runs the walk again.
      // Its own lock stays the default 30 s, so a loaded machine cannot make it look stalled too.
      service = await startImportService(parts.config({ LISTING_STALLED_INTERVAL_MS: '1000' }), { port: 0, log: testLog });
      const job = await waitListed(parts, accepted.job_id).catch(async (err: Error) => {
        const listing = await parts.listingQueue.getJob(`list-${accepted.job_id}`);
        throw new Error(`${err.message}; listing job state ${await listing?.getState()}, failed reason ${listing?.failedReason}`);
      });
      await checkListing(parts, job);

      const listing = await parts.listingQueue.getJob(`list-${accepted.job_id}`);
      assert.ok(listing, 'the listing job');
      await waitFor('the listing job to complete', async () => {
        const state = await listing.getState();
        if (state === 'failed') throw new Error(`listing job failed: ${(await parts.listingQueue.getJob(listing.id!))?.failedReason}`);
        return state === 'completed';
      }, 30_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await service?.close();
    }
  });
});
