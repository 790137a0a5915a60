import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { DriveTree, FOLDER_MIME, generateTree } from '../src/index.ts';
import { md5 } from './helpers.ts';

test('a 2,500-file 3-level tree has exactly 2,500 expected images, all distinct', () => {
  const tree = generateTree({ seed: 1, files: 2500, depth: 3 });
  const expected = tree.expectedImages();
  assert.equal(expected.length, 2500);
  assert.equal(new Set(expected.map((e) => e.id)).size, 2500);
  assert.equal(Math.max(...expected.map((e) => e.folderPath.split('/').filter(Boolean).length)), 3);
  assert.equal(tree.counts().folders, 1 + 3 + 9 + 27);
});

test('100,000 files in 1,000 folders: exact counts, without holding the bytes', () => {
  const tree = generateTree({ seed: 2, files: 100_000, folders: 1000 });
  const c = tree.counts();
  assert.equal(c.images, 100_000);
  assert.equal(c.folders, 1000);
  const before = process.memoryUsage().arrayBuffers;
  assert.ok(before < 200 * 1024 * 1024, `array buffers ${before}`);
});

test('regular trees: filesPerFolder in every folder, root included', () => {
  const tree = generateTree({ depth: 2, foldersPerFolder: 4, filesPerFolder: 48 });
  assert.equal(tree.expectedImages().length, (1 + 4 + 16) * 48);
});

test('the same seed gives the same tree, ids, names and bytes; another seed does not', () => {
  const a = generateTree({ seed: 7, files: 50, depth: 2, oddNames: true, duplicateNames: true, extras: true });
  const b = generateTree({ seed: 7, files: 50, depth: 2, oddNames: true, duplicateNames: true, extras: true });
  const c = generateTree({ seed: 8, files: 50, depth: 2 });
  assert.deepEqual(a.expectedImages(), b.expectedImages());
  assert.equal(a.rootId, b.rootId);
  assert.notEqual(a.rootId, c.rootId);
  const first = a.expectedImages()[0]!;
  assert.deepEqual(a.bytesOf(first.id), b.bytesOf(first.id));
});

test('duplicate names, odd names and extras leave the expected images the same in number', () => {
  const plain = generateTree({ seed: 4, depth: 2, foldersPerFolder: 3, filesPerFolder: 12 });
  const spicy = generateTree({ seed: 4, depth: 2, foldersPerFolder: 3, filesPerFolder: 12, duplicateNames: true, oddNames: true, extras: true });
  const expected = spicy.expectedImages();
  assert.equal(expected.length, plain.expectedImages().length);
  const names = expected.map((e) => e.name);
  for (const odd of ['a/b/c.png', 'back\\slash.png', '..', '😀 party 🎉.png']) assert.ok(names.includes(odd), odd);
  assert.ok(names.some((n) => n.length > 250), 'a very long name');
  assert.ok(names.some((n) => /[\u0000-\u001f]/.test(n)), 'control characters');
  // Several files with one name in one folder, and two sibling folders with one name.
  const byFolderAndName = new Map<string, number>();
  for (const e of expected) byFolderAndName.set(`${e.folderPath}\u0000${e.name}`, (byFolderAndName.get(`${e.folderPath}\u0000${e.name}`) ?? 0) + 1);
  assert.ok([...byFolderAndName.values()].some((n) => n >= 3));
  const rootFolders = spicy.children(spicy.rootId).filter((c) => c.mimeType === FOLDER_MIME).map((c) => c.name);
  assert.notEqual(new Set(rootFolders).size, rootFolders.length);
  // Extras: the trashed image is not expected; the two-parent image and the shortcut target appear once, with both paths.
  const all = [...spicy.all()];
  const trashed = all.find((i) => i.trashed)!;
  assert.ok(!expected.some((e) => e.id === trashed.id));
  assert.ok(expected.some((e) => e.folderPaths.length >= 2));
  const cycle = all.find((i) => i.shortcut?.targetId === spicy.rootId);
  assert.ok(cycle, 'a shortcut back to the root');
  for (const mime of ['text/plain', 'application/pdf', 'application/vnd.google-apps.document']) assert.ok(all.some((i) => i.mimeType === mime), mime);
});

test('every generated size is a valid PNG (tiny to 1 MB)', () => {
  for (const imageBytes of [100, 2000, 70_000, 1_000_000]) {
    const tree = new DriveTree({ imageBytes, seed: imageBytes });
    const id = tree.addImage(tree.rootId, 'x.png');
    const bytes = tree.bytesOf(id);
    const png = PNG.sync.read(bytes);
    const item = tree.get(id)!;
    assert.equal(png.width, item.image!.width);
    assert.equal(png.height, item.image!.height);
    assert.equal(md5(bytes), tree.md5Of(item));
  }
});
