import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_KEY_BYTES, objectKey, sanitizeSegment, uniqueNames } from '../src/keys.ts';

test('sanitizeSegment removes what could escape or break a key', () => {
  assert.equal(sanitizeSegment('..'), '__');
  assert.equal(sanitizeSegment('.'), '_');
  assert.equal(sanitizeSegment('a/b\\c'), 'a_b_c');
  assert.equal(sanitizeSegment('bell\u0007\nname.jpg'), 'bell__name.jpg');
  assert.equal(sanitizeSegment('   '), '_');
  assert.equal(sanitizeSegment('trailing. '), 'trailing_');
  assert.equal(sanitizeSegment('a..b...jpg'), 'a__b___jpg');
  assert.equal(sanitizeSegment('😀 photo.jpg'), '😀 photo.jpg');
  const long = sanitizeSegment('é'.repeat(500) + '.jpeg');
  assert.ok(Buffer.byteLength(long) <= 180);
  assert.ok(long.endsWith('.jpeg'));
});

test('uniqueNames tells colliding names apart by id, whatever the order', () => {
  const a = uniqueNames([{ id: 'id1', name: 'IMG.jpg' }, { id: 'id2', name: 'img.JPG' }, { id: 'id3', name: 'other.png' }]);
  const b = uniqueNames([{ id: 'id3', name: 'other.png' }, { id: 'id2', name: 'img.JPG' }, { id: 'id1', name: 'IMG.jpg' }]);
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  assert.equal(a.get('id1'), 'IMG (id1).jpg');
  assert.equal(a.get('id2'), 'img (id2).JPG');
  assert.equal(a.get('id3'), 'other.png');
  // The same id listed twice (several parents) is one entry, not a collision.
  assert.equal(uniqueNames([{ id: 'x', name: 'a.png' }, { id: 'x', name: 'a.png' }]).get('x'), 'a.png');
});

test('objectKey is deterministic, bounded and never contains ..', () => {
  const key = objectKey({ prefix: 'imports/', rootFolderId: 'root123456', folderPath: 'a/../b', name: '../x.jpg' });
  assert.equal(key, 'imports/root123456/a/__/b/___x.jpg');
  assert.ok(!key.includes('..'));
  const deep = objectKey({ prefix: 'p', rootFolderId: 'root123456', folderPath: Array(60).fill('folder-name-quite-long').join('/'), name: 'n.jpg' });
  assert.ok(Buffer.byteLength(deep) <= MAX_KEY_BYTES);
  assert.match(deep, /^p\/root123456\/_deep-[0-9a-f]{16}\/n\.jpg$/);
});
