// The same pipeline into Azurite and into a local directory (smaller trees).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, uniqueName } from '@drive-import/testing';
import { join } from 'node:path';
import { localObjects, md5, startSystem } from './support.ts';

const tree = { seed: 9, depth: 1, foldersPerFolder: 3, filesPerFolder: 30, imageBytes: 3_000, duplicateNames: true, oddNames: true };

test('into Azurite: every image once, md5 intact', async () => {
  const azurite = await startAzurite();
  const container = uniqueName('e2e');
  const system = await startSystem(tree, {
    STORAGE_PROVIDER: 'azure',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    AZURE_STORAGE_CONTAINER_NAME: container,
  });
  try {
    const expected = system.emulator.tree.expectedImages();
    const status = await system.importFolder(system.emulator.folderUrl);
    assert.equal(status.status, 'completed', JSON.stringify(status.errors.slice(0, 3)));
    assert.equal(status.processed, expected.length);
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    const stored: string[] = [];
    for await (const blob of blobs.listBlobsFlat()) {
      assert.ok(!blob.name.includes('..'));
      stored.push(md5(await blobs.getBlobClient(blob.name).downloadToBuffer()));
    }
    assert.deepEqual(stored.sort(), expected.map((f) => f.md5).sort());
  } finally {
    await system.close();
    await azurite.stop();
  }
});

test('into local disk: every image once, md5 intact', async () => {
  const system = await startSystem(tree, { STORAGE_PROVIDER: 'local' });
  try {
    const expected = system.emulator.tree.expectedImages();
    const status = await system.importFolder(system.emulator.folderUrl);
    assert.equal(status.status, 'completed', JSON.stringify(status.errors.slice(0, 3)));
    assert.equal(status.processed, expected.length);
    const objects = await localObjects(join(system.dir, 'objects'));
    assert.ok([...objects.keys()].every((k) => !k.includes('..')));
    assert.deepEqual([...objects.values()].sort(), expected.map((f) => f.md5).sort());
  } finally {
    await system.close();
  }
});
