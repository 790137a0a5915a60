/**
 * Scale in small: one folder of 30,000 images, a third sharing a name in different cases, plus a
 * file literally named like a suffixed one; and a recorder handed 150,000 files at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobSummary, type ListedFile } from '@drive-import/common';
import { DriveTree } from '@drive-import/drive-emulator';
import { startImportService } from '../src/index.ts';
import { createRecorder } from '../src/listing/recorder.ts';
import { allFiles, copyBatches, importFolder, startParts, testLog, waitListed, type Parts } from './support.ts';

const FILES = 30_000;
const SAME = ['IMG.jpg', 'img.JPG', 'Img.jpg'];

function bigFolder(): { tree: DriveTree; trap: string; firstSame: string } {
  const tree = new DriveTree({ seed: 5, imageBytes: 200 });
  let firstSame = '';
  for (let i = 0; i < FILES - 1; i++) {
    const id = tree.addImage(tree.rootId, i % 3 === 0 ? SAME[(i / 3) % 3]! : `photo-${i}.jpg`);
    if (i === 0) firstSame = id;
  }
  // The name the first same-named file would get as its suffixed name.
  const trap = tree.addImage(tree.rootId, `IMG (${firstSame}).jpg`);
  return { tree, trap, firstSame };
}

describe(`one folder of ${FILES.toLocaleString('en')} images, a third of them named alike`, () => {
  let parts: Parts;
  const folder = bigFolder();
  before(async () => {
    parts = await startParts(folder.tree);
    parts.emulator.tree.expectedImages();
  });
  after(() => parts.close());

  it('lists every image once, each under its own key, in full batches', async () => {
    const service = await startImportService(parts.config(), { port: 0, log: testLog });
    try {
      const accepted = await importFolder(service.url, parts.emulator.folderUrl);
      const job = await waitListed(parts, accepted.job_id, 300_000);
      assert.equal(job.total, FILES);
      const rows = await allFiles(parts, job.job_id);
      assert.equal(rows.length, FILES);
      assert.equal(new Set(rows.map((r) => r.id)).size, FILES);
      const keys = rows.map((r) => r.storage_key.toLowerCase());
      assert.equal(new Set(keys).size, FILES, 'every key unique, even case-insensitively');
      const byId = new Map(rows.map((r) => [r.id, r.storage_key]));
      assert.notEqual(byId.get(folder.trap), byId.get(folder.firstSame), 'a literal "IMG (<id>).jpg" never shares a key');
      const batches = await copyBatches(parts);
      assert.equal(batches.size, FILES / 100);
      let inBatches = 0;
      for (const b of batches.values()) inBatches += b.files.length;
      assert.equal(inBatches, FILES);
    } finally {
      await service.close();
    }
  });

  it('a recorder takes 150,000 files in one call (no argument-list overflow) and records each once', async () => {
    const job = await parts.metadata.call('POST', '/jobs', {
      body: { folder_id: parts.emulator.rootId, folder_name: 'big', destination: 'local', batch_size: 1000 },
      schema: JobSummary,
    });
    const files: ListedFile[] = Array.from({ length: 150_000 }, (_, i) => ({
      drive_id: `rec${String(i).padStart(9, '0')}x`,
      name: `f${i}.jpg`,
      folder_path: '',
      mime_type: 'image/jpeg',
      size: 1,
      md5: null,
      modified_time: null,
      width: null,
      height: null,
      taken_at: null,
      storage_key: `k/${job.job_id}/f${i}.jpg`,
    }));
    const recorder = createRecorder({ jobId: job.job_id, metadata: parts.metadata, log: testLog, chunkSize: 5000 });
    await recorder.add(files);
    await recorder.flush();
    assert.deepEqual([recorder.stats.inserted, recorder.stats.chunks, recorder.stats.batchesSealed], [150_000, 30, 150]);
    const after = await parts.metadata.call('GET', `/jobs/${job.job_id}`, { schema: JobSummary });
    assert.equal(after.total, 150_000);
  });
});
