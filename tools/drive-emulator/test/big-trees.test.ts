/** Million-file bench trees: generated compactly, and paged in O(page) per request, not O(folder). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTree, startDriveEmulator } from '../src/index.ts';

test('1,000,000 images in 2,000 folders generate in seconds and fit a few hundred MB', () => {
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const tree = generateTree({ seed: 9, files: 1_000_000, folders: 2000, imageBytes: 2000 });
  const seconds = (performance.now() - started) / 1000;
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  assert.equal(tree.expectedImageCount(), 1_000_000);
  assert.equal(tree.counts().folders, 2000);
  // Was ~8.5 s and ~525 MB of heap with one plain object (and its own strings) per image.
  assert.ok(seconds < 20, `generated in ${seconds.toFixed(1)} s`);
  assert.ok(heapMb < 400, `heap grew by ${heapMb.toFixed(0)} MB`);
  // An image still reads like any item, and its bytes are only made when asked for.
  const first = tree.children(tree.children(tree.rootId).find((c) => c.mimeType === 'image/png')!.parents[0]!).find((c) => c.mimeType === 'image/png')!;
  assert.match(first.modifiedTime, /^2024-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  assert.match(first.image!.time, /^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/);
  assert.equal(tree.bytesOf(first.id).length, first.size);
});

test('nameCollisions: a third of a folder named like a sibling, verbatim or in another case', () => {
  const tree = generateTree({ seed: 3, files: 3000, folders: 1, nameCollisions: 1 / 3 });
  const names = tree.children(tree.rootId).map((c) => c.name);
  assert.equal(names.length, 3000);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 2000);
  assert.ok(new Set(names).size > 2000, 'some collide only when case is ignored');
  assert.ok(names.includes('IMG_0001.png') && names.filter((n) => n === 'IMG_0001.png').length >= 1);
  assert.ok(names.some((n) => n.startsWith('img_')) && names.some((n) => n.endsWith('.PNG')));
});

test('paging a 200,000-image folder costs about what paging a 2,000-image folder does, last pages too', async () => {
  const em = await startDriveEmulator({ tree: { seed: 8, files: 200_000, folders: 1, nameCollisions: 1 / 3 } });
  const small = await startDriveEmulator({ tree: { seed: 8, files: 2000, folders: 1 } });
  try {
    const pageTimes = async (url: string, rootId: string) => {
      const times: number[] = [];
      const ids = new Set<string>();
      let token = '';
      do {
        const u = new URL('drive/v3/files', url);
        u.searchParams.set('q', `'${rootId}' in parents and trashed = false`);
        u.searchParams.set('pageSize', '1000');
        u.searchParams.set('fields', 'nextPageToken,files(id,name)');
        if (token) u.searchParams.set('pageToken', token);
        const asked = performance.now();
        const body = (await (await fetch(u)).json()) as { files: Array<{ id: string }>; nextPageToken?: string };
        times.push(performance.now() - asked);
        for (const f of body.files) ids.add(f.id);
        token = body.nextPageToken ?? '';
      } while (token);
      return { times, ids };
    };
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const big = await pageTimes(em.url, em.rootId);
    assert.equal(big.ids.size, 200_000);
    assert.equal(big.times.length, 200);
    // Warm the small emulator (JIT), then time its pages.
    await pageTimes(small.url, small.rootId);
    const base = mean((await pageTimes(small.url, small.rootId)).times);
    const early = mean(big.times.slice(1, 21));
    const late = mean(big.times.slice(-20));
    // Slicing from 0 each page would make the last pages ~100x the early ones; re-filtering the
    // folder per page would make every page far slower than a 2,000-image folder's.
    assert.ok(late <= 3 * early + 10, `last pages ${late.toFixed(1)} ms vs early ${early.toFixed(1)} ms`);
    assert.ok(mean(big.times.slice(1)) <= 3 * base + 10, `200k folder ${mean(big.times.slice(1)).toFixed(1)} ms/page vs 2k folder ${base.toFixed(1)} ms/page`);
  } finally {
    await em.close();
    await small.close();
  }
});
