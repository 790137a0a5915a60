import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { classifyDriveError, LIST_FIELDS } from '@drive-import/drive';
import { DriveTree, FOLDER_MIME, startDriveEmulator, type DriveEmulator } from '../src/index.ts';
import { client, listAll, rejection } from './helpers.ts';

let em: DriveEmulator;
before(async () => {
  em = await startDriveEmulator({ tree: { seed: 5, depth: 2, foldersPerFolder: 3, filesPerFolder: 40, extras: true } });
});
after(() => em.close());

const children = (id: string) => `'${id}' in parents and trashed = false`;

test('paging to the end with short and empty pages gives every child once', async () => {
  const drive = client(em.url);
  const all = await listAll(drive, children(em.rootId));
  em.setFaults({ maxPageSize: 7, emptyPageEvery: 3 });
  try {
    const paged = await listAll(drive, children(em.rootId), 1000);
    assert.deepEqual(paged.files.map((f) => f.id), all.files.map((f) => f.id));
    assert.ok(paged.pages >= Math.ceil(all.files.length / 7));
    assert.ok(paged.emptyPages >= 1, 'some pages were empty but had a nextPageToken');
  } finally {
    em.setFaults({});
  }
  // Default page size is 100; asking 10 gives pages of 10.
  const small = await drive.files.list({ q: children(em.rootId), pageSize: 10, fields: 'nextPageToken,files(id)' });
  assert.equal(small.data.files?.length, 10);
  assert.ok(small.data.nextPageToken);
});

test("q with OR'ed parents lists the children of all of them, in a deterministic order", async () => {
  const drive = client(em.url);
  const folders = (await listAll(drive, `${children(em.rootId)} and mimeType = '${FOLDER_MIME}'`)).files;
  assert.equal(folders.length, 3);
  const q = `(${folders.map((f) => `'${f.id}' in parents`).join(' or ')}) and trashed = false and mimeType != '${FOLDER_MIME}'`;
  const first = await listAll(drive, q, 50);
  const again = await listAll(drive, q, 50);
  assert.equal(first.files.length, 3 * 40);
  assert.deepEqual(first.files.map((f) => f.id), again.files.map((f) => f.id));
  for (const f of first.files) assert.ok(f.parents!.some((p) => folders.some((d) => d.id === p)));
  const images = await listAll(drive, `(${folders.map((f) => `'${f.id}' in parents`).join(' or ')}) and mimeType contains 'image/'`);
  assert.equal(images.files.length, 3 * 40);
});

test('fields: only the asked fields, nested imageMediaMetadata and shortcutDetails, size as a string', async () => {
  const drive = client(em.url);
  const res = await drive.files.list({ q: children(em.rootId), pageSize: 1000, fields: LIST_FIELDS });
  assert.equal(res.data.incompleteSearch, false);
  const image = res.data.files!.find((f) => f.mimeType === 'image/png')!;
  assert.deepEqual(Object.keys(image).sort(), ['id', 'imageMediaMetadata', 'md5Checksum', 'mimeType', 'modifiedTime', 'name', 'parents', 'size', 'trashed']);
  assert.equal(typeof image.size, 'string');
  assert.match(image.md5Checksum!, /^[0-9a-f]{32}$/);
  assert.deepEqual(Object.keys(image.imageMediaMetadata!).sort(), ['height', 'time', 'width']);
  const shortcut = res.data.files!.find((f) => f.mimeType === 'application/vnd.google-apps.shortcut')!;
  assert.ok(shortcut.shortcutDetails?.targetId);
  const narrow = await drive.files.list({ q: children(em.rootId), fields: 'files(id,imageMediaMetadata(width))' });
  assert.equal(narrow.data.nextPageToken, undefined, 'nextPageToken not asked for');
  for (const f of narrow.data.files!) {
    assert.ok(Object.keys(f).every((k) => k === 'id' || k === 'imageMediaMetadata'));
    if (f.imageMediaMetadata) assert.deepEqual(Object.keys(f.imageMediaMetadata), ['width']);
  }
  const meta = await drive.files.get({ fileId: image.id!, fields: 'id,size' });
  assert.deepEqual(meta.data, { id: image.id, size: image.size });
  const byDefault = await drive.files.get({ fileId: image.id! });
  assert.deepEqual(Object.keys(byDefault.data).sort(), ['id', 'kind', 'mimeType', 'name']);
});

test('trashed = false hides the trashed image; without it, it is listed', async () => {
  const drive = client(em.url);
  const visible = await listAll(drive, children(em.rootId));
  const everything = await listAll(drive, `'${em.rootId}' in parents`);
  const trashed = everything.files.filter((f) => f.trashed);
  assert.equal(trashed.length, 1);
  assert.ok(!visible.files.some((f) => f.id === trashed[0]!.id));
});

test("Drive's 400s: unparseable q, pageSize > 1000, bad pageToken", async () => {
  const drive = client(em.url);
  for (const call of [
    drive.files.list({ q: `'${em.rootId}' in parents and (` }),
    drive.files.list({ q: `bogus = 'x'` }),
    drive.files.list({ q: children(em.rootId), pageSize: 1001 }),
    drive.files.list({ q: children(em.rootId), pageToken: 'not-a-token' }),
  ]) {
    const err = await rejection(call);
    const f = classifyDriveError(err);
    assert.equal(f.status, 400);
    assert.equal(f.reason, 'invalid');
    assert.equal(f.retryable, false);
  }
  // A token from another query is refused too.
  const page = await drive.files.list({ q: children(em.rootId), pageSize: 1 });
  assert.equal(classifyDriveError(await rejection(drive.files.list({ q: `'x' in parents`, pageToken: page.data.nextPageToken! }))).status, 400);
});

test('unknown ids: 404 notFound in Drive shape; folders and Google Docs are not downloadable (403)', async () => {
  const res = await fetch(`${em.url}drive/v3/files/doesNotExist123?key=x`);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    error: {
      code: 404,
      message: 'File not found: doesNotExist123.',
      errors: [{ domain: 'global', reason: 'notFound', message: 'File not found: doesNotExist123.', location: 'fileId', locationType: 'parameter' }],
    },
  });
  const drive = client(em.url);
  assert.equal(classifyDriveError(await rejection(drive.files.get({ fileId: 'doesNotExist123' }))).reason, 'notFound');
  const rootFiles = (await listAll(drive, children(em.rootId))).files;
  const doc = rootFiles.find((f) => f.mimeType === 'application/vnd.google-apps.document')!;
  const folder = rootFiles.find((f) => f.mimeType === FOLDER_MIME)!;
  for (const id of [doc.id!, folder.id!]) {
    const f = classifyDriveError(await rejection(drive.files.get({ fileId: id, alt: 'media' }, { responseType: 'stream' })));
    assert.equal(f.status, 403);
    assert.equal(f.reason, 'fileNotDownloadable');
  }
  const meta = await drive.files.get({ fileId: doc.id!, fields: 'id,size,md5Checksum,mimeType' });
  assert.deepEqual(meta.data, { id: doc.id, mimeType: 'application/vnd.google-apps.document' });
});

test('a tree from a list, with an empty folder, and folders added at runtime show up in listings', async () => {
  const tree = DriveTree.fromList([
    { type: 'folder', path: 'empty' },
    { type: 'image', path: 'a/b/x.png' },
    { type: 'file', path: 'a/readme.txt', mimeType: 'text/plain', content: 'hi' },
  ]);
  const small = await startDriveEmulator({ tree });
  try {
    const drive = client(small.url);
    const emptyId = tree.idAt('empty');
    assert.deepEqual((await listAll(drive, children(emptyId))).files, []);
    const before = (await listAll(drive, children(small.rootId))).files.length;
    const added = tree.addFolder(small.rootId, 'made later');
    const after = (await listAll(drive, children(small.rootId))).files;
    assert.equal(after.length, before + 1);
    assert.ok(after.some((f) => f.id === added));
    // ... and over HTTP, from another process.
    const res = await fetch(`${small.url}__emulator/items`, { method: 'POST', body: JSON.stringify({ parentId: emptyId, name: 'new.png', type: 'image' }) });
    assert.equal(res.status, 201);
    assert.equal((await listAll(drive, children(emptyId))).files.length, 1);
    assert.deepEqual(tree.expectedImages().map((e) => e.folderPath).sort(), ['a/b', 'empty']);
  } finally {
    await small.close();
  }
});
