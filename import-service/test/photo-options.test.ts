/**
 * The import-service's part of per-import thumbnails (the request's `thumbnails`, else THUMBNAILS)
 * and of the camera: the listing asks Drive for imageMediaMetadata's cameraMake/cameraModel and
 * records them. Real metadata-service, Redis and Drive emulator; no copy worker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CopyBatch, ImageListResponse } from '@drive-import/common';
import { DriveTree } from '@drive-import/drive-emulator';
import { startImportService, type RunningImportService } from '../src/index.ts';
import { getJob, postImport, startParts, testLog, waitListed, type Parts } from './support.ts';

describe('thumbnails per import and the camera from Drive', () => {
  let parts: Parts;
  let tree: DriveTree;
  const services: RunningImportService[] = [];
  before(async () => {
    tree = new DriveTree({ seed: 61 });
    tree.addFile(tree.rootId, 'canon.jpg', 'image/jpeg', Buffer.from('jpeg bytes one'), {
      image: { width: 6000, height: 4000, time: '2024:05:01 10:00:00', cameraMake: 'Canon', cameraModel: '  Canon EOS R5  ' },
    });
    tree.addFile(tree.rootId, 'plain.jpg', 'image/jpeg', Buffer.from('jpeg bytes two'));
    parts = await startParts(tree);
  });
  after(async () => {
    for (const s of services) await s.close();
    await parts.close();
  });

  const start = async (env: Record<string, string>) => {
    const service = await startImportService(parts.config(env), { port: 0, log: testLog });
    services.push(service);
    return service;
  };
  const jobOf = async (url: string, body: Record<string, unknown>) => {
    const { status, json } = await postImport(url, { folder_url: parts.emulator.folderUrl, ...body });
    assert.equal(status, 202, JSON.stringify(json));
    return json.job_id as string;
  };

  it('the request decides; without one, THUMBNAILS does; the batches carry it', async () => {
    const off = await start({ THUMBNAILS: 'false' });
    const on = await start({ THUMBNAILS: 'true' });
    const cases: Array<[string, Record<string, unknown>, boolean]> = [
      [off.url, {}, false],
      [off.url, { thumbnails: true }, true],
      [on.url, {}, true],
      [on.url, { thumbnails: false }, false],
    ];
    for (const [url, body, want] of cases) {
      const id = await jobOf(url, body);
      assert.equal((await getJob(parts, id)).thumbnails, want, JSON.stringify(body));
      await waitListed(parts, id);
      const batch = await parts.metadata.call('GET', `/batches/${id}-b0`, { schema: CopyBatch });
      assert.equal(batch.thumbnails, want);
    }
    const refused = await postImport(off.url, { folder_url: parts.emulator.folderUrl, thumbnails: 'yes' });
    assert.equal(refused.status, 400);
  });

  it("records Drive's cameraMake/cameraModel; the batch tells the worker which files have one", async () => {
    const service = await start({});
    const id = await jobOf(service.url, {});
    await waitListed(parts, id);
    const batch = await parts.metadata.call('GET', `/batches/${id}-b0`, { schema: CopyBatch });
    assert.deepEqual(batch.files.map((f) => [f.name, f.has_camera]).sort(), [
      ['canon.jpg', true],
      ['plain.jpg', false],
    ]);
    // The catalog lists stored files only: report them stored as a worker would, then read them back.
    await parts.metadata.call('POST', `/batches/${id}-b0/results`, {
      body: { job_id: id, results: batch.files.map((f) => ({ drive_id: f.drive_id, status: 'stored', bytes: f.size, md5: f.md5, attempts: 1 })) },
    });
    const { images } = await parts.metadata.call('GET', '/images', { query: { job_id: id }, schema: ImageListResponse });
    const byName = new Map(images.map((i) => [i.name, [i.camera_make, i.camera_model]]));
    assert.deepEqual(byName.get('canon.jpg'), ['Canon', 'Canon EOS R5'], 'trimmed');
    assert.deepEqual(byName.get('plain.jpg'), [null, null]);
  });
});
