import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_KEY_BYTES, MAX_SEGMENT_BYTES, objectKey, sanitizeSegment, uniqueNames, uniqueNamesAsync } from '../src/keys.ts';

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

/** Asserts the invariants every uniqueNames result must hold, and returns the result. */
function checkUnique(children: ReadonlyArray<{ id: string; name: string }>): Map<string, string> {
  const names = uniqueNames(children);
  assert.deepEqual(new Set(names.keys()), new Set(children.map((c) => c.id)), 'every id gets exactly one name');
  const folded = new Set<string>();
  for (const [id, name] of names) {
    assert.ok(!folded.has(name.toLowerCase()), `name given twice (case-insensitively): ${JSON.stringify(name)} (${id})`);
    folded.add(name.toLowerCase());
    assert.ok(Buffer.byteLength(name) <= MAX_SEGMENT_BYTES, `too long: ${JSON.stringify(name)}`);
    // objectKey sanitizes every segment again: that must not change (and so re-merge) a unique name.
    assert.equal(sanitizeSegment(name), name);
  }
  return names;
}

test('uniqueNames stays linear when a folder holds 100,000 files of one name', () => {
  const variants = ['IMG.jpg', 'img.JPG', 'Img.jpg', 'IMG.JPG'];
  const children = Array.from({ length: 100_000 }, (_, i) => ({ id: `1aBcD${i.toString(36)}`, name: variants[i % variants.length]! }));
  const started = performance.now();
  const names = uniqueNames(children);
  const elapsed = performance.now() - started;
  // A behaviour check, not a benchmark: the quadratic version needed ~30 s here.
  assert.ok(elapsed < 3000, `uniqueNames took ${Math.round(elapsed)} ms`);
  assert.equal(names.size, children.length);
  assert.equal(new Set([...names.values()].map((n) => n.toLowerCase())).size, children.length);
  assert.equal(names.get('1aBcD0'), 'IMG (1aBcD0).jpg');
});

test('uniqueNames never gives two files one name, even when a name looks like a suffixed one', () => {
  // A third file literally named like the suffixed form of the first keeps its name; the first moves on.
  const names = checkUnique([{ id: 'A', name: 'x.jpg' }, { id: 'B', name: 'X.jpg' }, { id: 'C', name: 'x (A).jpg' }]);
  assert.equal(names.get('C'), 'x (A).jpg');
  assert.equal(names.get('B'), 'X (B).jpg');
  assert.notEqual(names.get('A')!.toLowerCase(), 'x (a).jpg');
  // Drive ids that differ only in case still make different names.
  const cased = checkUnique([{ id: 'abc', name: 'a.jpg' }, { id: 'ABC', name: 'A.jpg' }]);
  assert.notEqual(cased.get('abc')!.toLowerCase(), cased.get('ABC')!.toLowerCase());
  // The same after truncation: the suffixed form of a long name, given to a third file.
  const long = 'é'.repeat(120);
  const taken = `${'é'.repeat(86)} (A).jpg`; // what A would get: 172 + 4 + 4 bytes
  assert.equal(Buffer.byteLength(taken), MAX_SEGMENT_BYTES);
  const truncated = checkUnique([
    { id: 'A', name: `${long}.jpg` },
    { id: 'B', name: `${long.toUpperCase()}.JPG` },
    { id: 'C', name: taken.toUpperCase() },
  ]);
  assert.equal(truncated.get('C'), taken.toUpperCase());
  // The order of the listing does not matter.
  const again = checkUnique([{ id: 'C', name: 'x (A).jpg' }, { id: 'B', name: 'X.jpg' }, { id: 'A', name: 'x.jpg' }]);
  assert.deepEqual([...again.entries()].sort(), [...names.entries()].sort());
});

/** Small seeded PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('uniqueNames: random folders built to collide always get unique, bounded, stable names', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rnd = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const flipCase = (s: string) => [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
    const newId = () => Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => pick([...alphabet])).join('');
    const stems = ['IMG', 'x', 'photo 1', 'é'.repeat(85), '😀'.repeat(44), 'a'.repeat(175), `ß${'ü'.repeat(88)}`, 'Ä'.repeat(89)];
    const exts = ['.jpg', '.JPG', '.jpeg', '', '.png'];
    const children: Array<{ id: string; name: string }> = [];
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = rnd();
      let id: string;
      if (ids.length > 0 && r < 0.1) id = flipCase(pick(ids)); // differs (maybe) only in case
      else id = newId();
      if (ids.length > 0 && rnd() < 0.05) {
        children.push(pick(children)); // the same file listed twice counts once
        continue;
      }
      ids.push(id);
      const stem = flipCase(pick(stems));
      const ext = flipCase(pick(exts));
      const kind = rnd();
      let name: string;
      if (kind < 0.5 || ids.length < 2) name = stem + ext;
      else if (kind < 0.8) name = `${stem} (${pick(ids)})${ext}`; // looks like another child's suffixed name
      else if (kind < 0.9) name = `${stem} (${pick(ids)}~${2 + Math.floor(rnd() * 3)})${ext}`;
      else name = sanitizeSegment(`${stem} (${flipCase(pick(ids))})${ext}`); // cut to the byte limit
      children.push({ id, name });
    }
    const names = checkUnique(children);
    // A name that collides with nobody keeps its sanitized form.
    const byFolded = new Map<string, Set<string>>();
    const namesOf = new Map<string, Set<string>>();
    for (const c of children) {
      const k = sanitizeSegment(c.name).toLowerCase();
      byFolded.set(k, (byFolded.get(k) ?? new Set()).add(c.id));
      namesOf.set(c.id, (namesOf.get(c.id) ?? new Set()).add(sanitizeSegment(c.name)));
    }
    for (const c of children) {
      const alone = byFolded.get(sanitizeSegment(c.name).toLowerCase())!.size === 1 && namesOf.get(c.id)!.size === 1;
      if (alone) assert.equal(names.get(c.id), sanitizeSegment(c.name));
    }
    // Any listing order gives the same map, so a re-import hits the same keys.
    const shuffled = [...children];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    assert.deepEqual([...uniqueNames(shuffled).entries()].sort(), [...names.entries()].sort(), `seed ${seed}`);
  }
});

test('uniqueNamesAsync gives the same names as uniqueNames and lets other work run in between', async () => {
  const children = Array.from({ length: 60_000 }, (_, i) => ({ id: `id${String(i).padStart(8, '0')}xx`, name: i % 3 === 0 ? 'IMG.jpg' : `photo-${i}.jpg` }));
  let turns = 0;
  const other = setInterval(() => turns++, 0);
  try {
    const names = await uniqueNamesAsync(children);
    assert.deepEqual(names, uniqueNames(children));
    assert.ok(turns > 0, 'a timer ran while the names were made: the event loop was not held');
  } finally {
    clearInterval(other);
  }
});
