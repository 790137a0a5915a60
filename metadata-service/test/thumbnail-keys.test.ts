import assert from 'node:assert/strict';
import { test } from 'node:test';
import { thumbnailOriginals } from '../src/stored-objects.ts';

test('thumbnailOriginals: the original keys a thumbs/ key can belong to', () => {
  assert.deepEqual(thumbnailOriginals('p/thumbs/root/a/b.png.webp'), ['p/root/a/b.png']);
  assert.deepEqual(thumbnailOriginals('thumbs/root/b.png.webp'), ['root/b.png']);
  assert.deepEqual(thumbnailOriginals('p/thumbs/root/thumbs/b.png.webp'), ['p/root/thumbs/b.png', 'p/thumbs/root/b.png']);
  assert.deepEqual(thumbnailOriginals('p/root/b.png'), []);
  assert.deepEqual(thumbnailOriginals('p/root/thumbs.webp'), []);
});
