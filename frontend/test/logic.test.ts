// The page's logic without a browser: progress and ETA maths, the import form's check, and the
// live-updates switch between push and polling (driven through a hand-rolled EventSource and timers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkImportForm } from '../src/lib/folder-input.ts';
import { type EventSourceLike, type LiveMode, startLive } from '../src/lib/live.ts';
import { byteFraction, etaSeconds, fileFraction, formatBytes, formatDuration, RateMeter } from '../src/lib/progress.ts';

const job = (over: Partial<Parameters<typeof fileFraction>[0]> = {}) => ({
  status: 'processing',
  total: 200,
  processed: 50,
  failed: 10,
  skipped: 5,
  bytes_total: 1000,
  bytes_done: 250,
  listing_complete: true,
  ...over,
});

describe('progress', () => {
  it('counts failed files as finished, caps at 1, and is 1 for a completed job', () => {
    assert.equal(fileFraction(job()), 0.3);
    assert.equal(fileFraction(job({ processed: 300 })), 1);
    assert.equal(fileFraction(job({ total: 0 })), 0);
    assert.equal(fileFraction(job({ status: 'completed', total: 0 })), 1);
    assert.equal(fileFraction(job({ status: 'cancelled' })), 0.3, 'a cancelled job stays where it stopped');
    assert.equal(byteFraction(job()), 0.25);
    assert.equal(byteFraction(job({ bytes_total: 0 })), 0.3, 'no byte total yet: the file fraction');
  });
  it('rate over the window, reset by a retry; ETA from the files left', () => {
    const m = new RateMeter(10_000);
    assert.equal(m.rate(), null);
    m.add({ at: 0, files: 0, bytes: 0 });
    m.add({ at: 2000, files: 40, bytes: 4000 });
    assert.deepEqual(m.rate(), { files: 20, bytes: 2000 });
    m.add({ at: 20_000, files: 400, bytes: 40_000 });
    assert.deepEqual(m.rate(), { files: 20, bytes: 2000 }, 'samples older than the window are dropped');
    m.add({ at: 21_000, files: 3, bytes: 0 });
    assert.equal(m.rate(), null, 'counts went down (a retry): start over');
    assert.equal(etaSeconds(job(), 20), 7); // 140 left at 20/s
    assert.equal(etaSeconds(job({ listing_complete: false }), 20), null, 'the total is not known yet');
    assert.equal(etaSeconds(job({ status: 'completed' }), 20), null);
    assert.equal(etaSeconds(job(), null), null);
    assert.equal(formatDuration(7), '7 s');
    assert.equal(formatDuration(3725), '1 h 2 min');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1_500_000), '1.5 MB');
  });
});

describe('the import form', () => {
  it('checks with the API schema: empty is refused, a URL is trimmed, destination and thumbnails sent', () => {
    assert.deepEqual(checkImportForm({ folder_url: '   ', destination: '', thumbnails: true }), { ok: false, message: 'Paste a Drive folder URL or id' });
    const ok = checkImportForm({ folder_url: ' https://drive.google.com/drive/folders/abcdefghijk ', destination: 'local', thumbnails: true });
    assert.deepEqual(ok, { ok: true, body: { folder_url: 'https://drive.google.com/drive/folders/abcdefghijk', destination: 'local', thumbnails: true } });
    const bad = checkImportForm({ folder_url: 'abcdefghijk', destination: 'ftp', thumbnails: false });
    assert.equal(bad.ok, false);
    assert.match((bad as { message: string }).message, /^destination:/);
    assert.equal(checkImportForm({ folder_url: 'x'.repeat(3000), destination: '', thumbnails: false }).ok, false);
  });
});

/** An EventSource the test opens, errors and feeds. */
class FakeSource implements EventSourceLike {
  onerror: ((e: Event) => void) | null = null;
  onopen: ((e: Event) => void) | null = null;
  closed = false;
  listeners = new Map<string, (e: MessageEvent) => void>();
  addEventListener(type: string, l: (e: MessageEvent) => void) {
    this.listeners.set(type, l);
  }
  close() {
    this.closed = true;
  }
  emit(data: unknown) {
    this.listeners.get('job')?.({ data: JSON.stringify(data) } as MessageEvent);
  }
}

describe('live updates', () => {
  it('pushes while open; on a drop polls (no failed job, only a mode change), then reopens and stops polling', async () => {
    const sources: FakeSource[] = [];
    const timers: { fn: () => void; ms: number }[] = [];
    const modes: LiveMode[] = [];
    const updates: [unknown[], string][] = [];
    let polls = 0;
    const stop = startLive<{ n: number }>({
      url: '/events',
      open: () => {
        const s = new FakeSource();
        sources.push(s);
        return s;
      },
      poll: async () => [{ n: ++polls }],
      onUpdate: (items, via) => updates.push([items, via]),
      onMode: (m) => modes.push(m),
      setTimer: (fn, ms) => timers.push({ fn, ms }),
      clearTimer: () => {},
    });
    sources[0]!.onopen!(new Event('open'));
    sources[0]!.emit({ n: 100 });
    assert.deepEqual(updates, [[[{ n: 100 }], 'push']]);
    sources[0]!.onerror!(new Event('error'));
    assert.equal(sources[0]!.closed, true);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(updates.at(-1), [[{ n: 1 }], 'poll'], 'polled at once after the drop');
    assert.deepEqual(modes, ['connecting', 'push', 'polling']);
    const reopen = timers.find((t) => t.ms === 5000)!;
    const nextPoll = timers.find((t) => t.ms === 2000)!;
    reopen.fn();
    assert.equal(sources.length, 2);
    sources[1]!.onopen!(new Event('open'));
    nextPoll.fn();
    await new Promise((r) => setImmediate(r));
    assert.equal(polls, 1, 'no poll once the stream is back');
    assert.equal(modes.at(-1), 'push');
    stop();
    assert.equal(sources[1]!.closed, true);
  });
});
