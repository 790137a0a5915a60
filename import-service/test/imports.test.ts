/**
 * POST /imports and the walk's special cases, against the Drive emulator, a real metadata-service
 * and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriveTree } from '@drive-import/drive-emulator';
import { waitFor } from '@drive-import/testing';
import { startImportService, type RunningImportService } from '../src/index.ts';
import { allFiles, copyBatches, getJob, importFolder, internalAuth, postImport, startParts, testLog, waitListed, type Parts } from './support.ts';

function buildTree() {
  const tree = DriveTree.fromList(
    [
      { type: 'folder', path: 'empty' },
      { type: 'image', path: 'outside.png' },
      { type: 'image', path: 'cases/a.png' },
      { type: 'image', path: 'cases/b.png' },
      { type: 'image', path: 'cases/gone.png', trashed: true },
      { type: 'doc', path: 'cases/Meeting notes' },
      { type: 'file', path: 'cases/readme.txt', mimeType: 'text/plain', content: 'not an image' },
      { type: 'file', path: 'cases/clip.mp4', mimeType: 'video/mp4', content: 'not an image either' },
      { type: 'image', path: 'cases/sub/c.png' },
      // A cycle: sub links back to its parent folder.
      { type: 'shortcut', path: 'cases/sub/back up', target: 'cases' },
      // A second way into sub: walked once.
      { type: 'shortcut', path: 'cases/sub2/sub again', target: 'cases/sub' },
      { type: 'image', path: 'cases/old/in trashed folder.png' },
      { type: 'folder', path: 'forbidden' },
      { type: 'folder', path: 'binned' },
    ],
    { rootName: 'Import tests' },
  );
  const cases = tree.idAt('cases');
  const a = tree.children(cases).find((c) => c.name === 'a.png')!.id;
  const b = tree.children(cases).find((c) => c.name === 'b.png')!.id;
  // a.png also sits in sub (two parents); b.png also has a shortcut beside it; outside.png only a shortcut.
  tree.addParent(a, tree.idAt('cases/sub'));
  tree.addShortcut(cases, 'b again', b);
  tree.addShortcut(cases, 'link to outside', tree.children(tree.rootId).find((c) => c.name === 'outside.png')!.id);
  tree.addShortcut(tree.rootId, 'cases shortcut', cases);
  tree.setTrashed(tree.idAt('cases/old'));
  tree.setTrashed(tree.idAt('binned'));
  return tree;
}

describe('POST /imports', () => {
  let parts: Parts;
  let service: RunningImportService;
  let tree: DriveTree;
  before(async () => {
    tree = buildTree();
    parts = await startParts(tree, { permanent: { [tree.idAt('forbidden')]: { status: 403, reason: 'forbidden', kind: 'get' } } });
    service = await startImportService(parts.config(), { port: 0, log: testLog });
  });
  after(async () => {
    await service.close();
    await parts.close();
  });

  const idOf = (path: string) => tree.idAt(path);
  const folderUrl = (id: string) => `https://drive.google.com/drive/folders/${id}?usp=sharing`;

  it('an empty folder completes with 0 files', async () => {
    const accepted = await importFolder(service.url, folderUrl(idOf('empty')));
    assert.equal(accepted.status, 'queued');
    assert.equal(accepted.total_images, null);
    assert.equal(accepted.status_url, `/api/import/status/${accepted.job_id}`);
    assert.match(accepted.message, /empty/);
    const job = await waitListed(parts, accepted.job_id);
    assert.equal(job.total, 0);
    assert.equal(job.status, 'completed');
  });

  it('walks shortcuts without looping, skips trashed and non-images, records a two-parent file once', async () => {
    const accepted = await importFolder(service.url, folderUrl(idOf('cases')));
    const job = await waitListed(parts, accepted.job_id);
    const rows = await allFiles(parts, accepted.job_id);
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.deepEqual([...byName.keys()].sort(), ['a.png', 'b.png', 'c.png', 'link to outside'].sort());
    assert.equal(job.total, 4);
    assert.equal(new Set(rows.map((r) => r.id)).size, 4, 'each drive id once');
    // The shortcut's target is what gets copied: its id, type and bytes.
    const outside = tree.children(tree.rootId).find((c) => c.name === 'outside.png')!;
    assert.equal(byName.get('link to outside')!.id, outside.id);
    assert.equal(byName.get('link to outside')!.mime_type, 'image/png');
    assert.equal(byName.get('link to outside')!.size, outside.size);
    assert.equal(byName.get('c.png')!.folder_path, 'sub');
    assert.equal(byName.get('c.png')!.storage_key, `drive-import/${idOf('cases')}/sub/c.png`);
    const batches = await copyBatches(parts);
    const mine = [...batches.values()].filter((b) => b.job_id === accepted.job_id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.files.length, 4);
  });

  it('a shortcut to a folder imports the folder it points to', async () => {
    const shortcut = tree.children(tree.rootId).find((c) => c.name === 'cases shortcut')!;
    const accepted = await importFolder(service.url, shortcut.id);
    const job = await getJob(parts, accepted.job_id);
    assert.equal(job.folder_id, idOf('cases'));
  });

  it('a missing folder is a 404 at POST time', async () => {
    const { status, json } = await postImport(service.url, { folder_url: folderUrl('1NoSuchFolderAnywhereInThisDrive') });
    assert.equal(status, 404);
    assert.equal((json.error as { code: string }).code, 'folder_not_found');
  });

  it('a file id instead of a folder is a 400', async () => {
    const file = tree.children(tree.rootId).find((c) => c.name === 'outside.png')!;
    const { status, json } = await postImport(service.url, { folder_url: `https://drive.google.com/open?id=${file.id}` });
    assert.equal(status, 400);
    assert.equal((json.error as { code: string }).code, 'not_a_folder');
  });

  it('a forbidden folder is a 403 that says how to share it', async () => {
    const { status, json } = await postImport(service.url, { folder_url: folderUrl(idOf('forbidden')) });
    assert.equal(status, 403);
    const error = json.error as { code: string; message: string };
    assert.equal(error.code, 'folder_not_accessible');
    assert.match(error.message, /Anyone with the link.*GOOGLE_API_KEY.*GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it('a trashed folder is a 410', async () => {
    const { status, json } = await postImport(service.url, { folder_url: folderUrl(idOf('binned')) });
    assert.equal(status, 410);
    assert.equal((json.error as { code: string }).code, 'folder_trashed');
  });

  it('Drive failing (5xx, rate limits) is a 503 drive_unavailable after a few quick retries', async () => {
    parts.emulator.setFaults({ errorRate: { get: 1 }, errorStatuses: [503, 429] });
    parts.emulator.resetStats();
    try {
      const { status, json } = await postImport(service.url, { folder_url: folderUrl(idOf('empty')) });
      assert.equal(status, 503);
      assert.equal((json.error as { code: string }).code, 'drive_unavailable');
      const stats = parts.emulator.stats();
      assert.equal(stats.byKind.get, 3, 'three tries, then give up');
      assert.equal(stats.byStatus['200'] ?? 0, 0);
    } finally {
      parts.emulator.setFaults({});
    }
  });

  it('a destination that is not configured is a 400', async () => {
    const { status, json } = await postImport(service.url, { folder_url: folderUrl(idOf('empty')), destination: 's3' });
    assert.equal(status, 400);
    assert.equal((json.error as { code: string }).code, 'destination_not_configured');
  });

  it('bad bodies are 4xx in the error shape, and create no job', async () => {
    const before = (await parts.metadata.call('GET', '/jobs', { query: { per_page: 1 } })) as { total: number };
    const send = (body: string, contentType = 'application/json') =>
      fetch(`${service.url}/imports`, { method: 'POST', headers: { 'content-type': contentType, ...internalAuth }, body });
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['malformed JSON', send('{"folder_url": '), 400, 'invalid_json'],
      ['extra field', send(JSON.stringify({ folder_url: idOf('empty'), extra: 1 })), 400, 'invalid_request'],
      ['missing folder_url', send('{}'), 400, 'invalid_request'],
      ['folder_url not a string', send('{"folder_url": 42}'), 400, 'invalid_request'],
      ['bad destination', send(JSON.stringify({ folder_url: idOf('empty'), destination: 'ftp' })), 400, 'invalid_request'],
      ['1 MB body', send(JSON.stringify({ folder_url: 'x'.repeat(1024 * 1024) })), 413, 'payload_too_large'],
      ['non-Drive URL', send(JSON.stringify({ folder_url: 'https://example.com/drive/folders/1AbCdEfGhIjKlMnOp' })), 400, 'invalid_folder_url'],
      ['file URL', send(JSON.stringify({ folder_url: 'https://drive.google.com/file/d/1AbCdEfGhIjKlMnOp/view' })), 400, 'invalid_folder_url'],
      ['not JSON at all', send('folder_url=abc', 'application/x-www-form-urlencoded'), 400, 'invalid_request'],
    ];
    for (const [label, pending, status, code] of cases) {
      const res = await pending;
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      assert.equal(res.status, status, `${label}: ${JSON.stringify(body)}`);
      assert.equal(body.error?.code, code, label);
      assert.equal(typeof body.error?.message, 'string', label);
    }
    const afterwards = (await parts.metadata.call('GET', '/jobs', { query: { per_page: 1 } })) as { total: number };
    assert.equal(afterwards.total, before.total);
  });

  it('GET /health reports redis, the metadata-service and Drive', async () => {
    const res = await fetch(`${service.url}/health`);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.checks, { redis: 'ok', 'metadata-service': 'ok', drive: 'ok' });
  });
});

describe('the 202 comes before the listing', () => {
  let parts: Parts;
  before(async () => {
    // Small pages and a little latency: the listing spans many calls, so its `listing` phase is visible.
    parts = await startParts({ files: 300, depth: 2, seed: 5 }, { maxPageSize: 5, latencyMs: { list: 20 } });
    parts.emulator.tree.expectedImages(); // make the PNGs now, not during the walk
  });
  after(async () => {
    await parts.close();
  });

  it('answers 202 with the job queued and nothing listed, then the job shows `listing`, then the totals', async () => {
    // An API-only process: the listing job can only start when a listing worker appears.
    const api = await startImportService(parts.config(), { port: 0, log: testLog, listingWorker: false });
    let worker: RunningImportService | undefined;
    try {
      parts.emulator.resetStats();
      const accepted = await importFolder(api.url, parts.emulator.folderUrl);
      assert.equal(accepted.total_images, null);
      assert.equal(parts.emulator.stats().byKind.list, 0, 'no files.list before the 202');
      const queued = await getJob(parts, accepted.job_id);
      assert.equal(queued.status, 'queued');
      assert.equal(queued.total, 0);
      const listing = await parts.listingQueue.getJob(`list-${accepted.job_id}`);
      assert.equal(await listing?.getState(), 'waiting');
      assert.deepEqual(listing?.data, { job_id: accepted.job_id, folder_id: parts.emulator.rootId, resource_key: null, destination: 'local' });

      worker = await startImportService(parts.config(), { port: 0, log: testLog });
      const seen: Array<{ status: string; total: number; listing_complete: boolean }> = [];
      const done = await waitFor(
        'the listing to complete',
        async () => {
          const job = await getJob(parts, accepted.job_id);
          seen.push({ status: job.status, total: job.total, listing_complete: job.listing_complete });
          return job.listing_complete ? job : null;
        },
        120_000,
        10,
      );
      assert.ok(seen.some((s) => s.status === 'listing' && !s.listing_complete), `statuses seen: ${JSON.stringify(seen.slice(0, 5))}`);
      assert.equal(done.total, 300);
      assert.equal(done.status, 'processing'); // no copy worker runs here
    } finally {
      await worker?.close();
      await api.close();
    }
  });

  it('a folder that vanishes between the POST and the listing fails the job with a readable error', async () => {
    const api = await startImportService(parts.config(), { port: 0, log: testLog, listingWorker: false });
    let worker: RunningImportService | undefined;
    try {
      const accepted = await importFolder(api.url, parts.emulator.folderUrl);
      // From now on Drive says the folder is gone (every listing answers 404 notFound).
      parts.emulator.setFaults({ failNext: { count: 1_000_000, status: 404, reason: 'notFound', kind: 'list' } });
      worker = await startImportService(parts.config(), { port: 0, log: testLog });
      const job = await waitFor('the job to fail', async () => {
        const j = await getJob(parts, accepted.job_id);
        return j.status === 'failed' ? j : null;
      });
      assert.match(job.error ?? '', /Listing the folder failed: the folder is no longer in Drive or no longer shared/);
      const listing = await parts.listingQueue.getJob(`list-${accepted.job_id}`);
      await waitFor('the listing job to be failed', async () => (await listing?.getState()) === 'failed');
      assert.equal((await parts.listingQueue.getJob(`list-${accepted.job_id}`))?.attemptsMade, 1, 'not retried: a 404 will not heal');
    } finally {
      parts.emulator.setFaults({});
      await worker?.close();
      await api.close();
    }
  });
});
