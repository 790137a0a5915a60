/**
 * The faults, each a ChaosCase, at two sizes: 'full' for `npm run test:chaos` (CHAOS_FILES, default
 * 5,000; 20,000 for the listing fault) and 'small' for `npm test` (a few hundred files, shorter
 * outages, fewer kills).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_JOB_STATUSES } from '@drive-import/common';
import type { Faults } from '@drive-import/drive-emulator';
import { waitFor } from '@drive-import/testing';
import { EventSource } from 'eventsource';
import { type EventSourceLike, type LiveMode, startLive } from '../../frontend/src/lib/live.ts';
import { type ChaosCase, type ChaosContext, sleep } from './support.ts';

export type Size = 'small' | 'full';

const FULL = Number(process.env.CHAOS_FILES ?? 5000);
const FULL_LISTING = Number(process.env.CHAOS_LISTING_FILES ?? 20_000);

/** Mid-copy: a fifth of the files done, the job not over. */
const midCopy = (ctx: ChaosContext, part = 0.2) => ctx.until(`${Math.round(part * 100)} % copied`, (s) => s.processed + s.failed >= ctx.files * part);

export function workerKills(size: Size): ChaosCase {
  const kills = size === 'full' ? 10 : 3;
  return {
    fault: `worker SIGKILLed ${kills} times at random moments, restarted`,
    size,
    files: size === 'full' ? FULL : 400,
    extraWorkers: 1,
    // Paced, so the kills land while the copy runs.
    env: { DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '150' : '40' },
    inject: async (ctx) => {
      await ctx.until('copying', (s) => s.processed > 0);
      let done = 0;
      for (let i = 0; i < kills; i++) {
        await sleep(300 + Math.random() * (size === 'full' ? 3000 : 1200));
        if (await ctx.finished()) break;
        const workers = ctx.stack.processes.filter((p) => p.name === 'worker' && p.child.exitCode === null && p.child.signalCode === null);
        const victim = workers[Math.floor(Math.random() * workers.length)];
        if (!victim) continue;
        victim.child.kill('SIGKILL');
        done++;
      }
      return `${done} SIGKILLs${done < kills ? ` (of ${kills} planned: the job ended first)` : ''}`;
    },
  };
}

export function redisRestart(size: Size): ChaosCase {
  return {
    fault: 'Redis (AOF, appendfsync always) SIGKILLed mid-copy, started again on the same port and dir',
    size,
    files: size === 'full' ? FULL : 400,
    ownRedis: true,
    env: { DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '150' : '40' },
    inject: async (ctx) => {
      await midCopy(ctx);
      const down = size === 'full' ? 10_000 : 3_000;
      await ctx.ownRedis!.stop('SIGKILL');
      await sleep(down);
      await ctx.ownRedis!.start();
      return `down ${down / 1000} s`;
    },
  };
}

export function metadataKill(size: Size): ChaosCase {
  const downMs = size === 'full' ? 30_000 : 5_000;
  return {
    fault: `metadata-service SIGKILLed mid-copy, back after ${downMs / 1000} s`,
    size,
    files: size === 'full' ? FULL : 400,
    env: { DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '150' : '40' },
    // The restart policy brings it back: after exactly downMs (no backoff growth on one crash).
    restart: { baseDelayMs: downMs, maxDelayMs: downMs },
    inject: async (ctx) => {
      await midCopy(ctx);
      ctx.stack.processes.find((p) => p.name === 'metadata-service')!.child.kill('SIGKILL');
      return `down ${downMs / 1000} s`;
    },
  };
}

export function importServiceKill(size: Size): ChaosCase {
  const files = size === 'full' ? FULL_LISTING : 500;
  return {
    fault: 'import-service SIGKILLed during the listing, restarted',
    size,
    files,
    // Small pages, slow: the listing takes long enough to be killed in the middle.
    emulatorFaults: { maxPageSize: size === 'full' ? 200 : 50, latencyMs: { list: size === 'full' ? 150 : 300 } },
    restart: { baseDelayMs: 1000, maxDelayMs: 1000 },
    // The dead process's listing is taken over once its lock lapses (default 30 s; 5 s here).
    env: { LISTING_LOCK_DURATION_MS: '5000', LISTING_STALLED_INTERVAL_MS: '5000' },
    inject: async (ctx) => {
      const s = await ctx.until('part of the listing', (x) => x.total >= files * 0.25);
      if (s.listing_complete) return 'listing was complete before the kill (not a mid-listing kill)';
      ctx.stack.processes.find((p) => p.name === 'import-service')!.child.kill('SIGKILL');
      return `killed at ${s.total} of ${files} listed`;
    },
  };
}

export function driveFaults(size: Size): ChaosCase {
  let base: Faults = {
    errorRate: { media: 0.1, get: 0.05, list: 0.05 },
    errorStatuses: [500, 503],
    corruptRate: 0.01,
    dropConnectionRate: 0.01,
    retryAfterSeconds: 1,
    seed: 3,
  };
  const stalls = size === 'full' ? 10 : 3;
  return {
    fault: `Drive: 10 % 5xx, 429 bursts, 1 % corrupted bodies, 1 % resets mid-body, ${stalls} bodies stalled half way`,
    size,
    files: size === 'full' ? FULL : 400,
    // Besides the 1 % at random: the first download of one file in every 100 is corrupted for sure.
    emulatorFaults: (ids) => {
      base = { ...base, corruptFirstDownloadOf: ids.filter((_, i) => i % 100 === 50) };
      return base;
    },
    driveProxy: true,
    // A stalled body is ended by the read timeout (no byte for 3 s), long before the try's own 5 minutes.
    env: { DRIVE_READ_TIMEOUT_MS: '3000', DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '300' : '60' },
    inject: async (ctx) => {
      ctx.driveProxy!.stall({ count: stalls, match: (_m, url) => url.includes('alt=media') });
      await ctx.until('copying', (s) => s.processed > 0);
      const bursts = size === 'full' ? 3 : 1;
      for (let i = 0; i < bursts; i++) {
        if (await ctx.finished()) break;
        // setFaults resets the emulator's counters: the sure corruptions are not repeated by a burst.
        ctx.emulator.setFaults({ ...base, corruptFirstDownloadOf: undefined, seed: 10 + i, failNext: { count: 30, status: 429, kind: 'media' } });
        await sleep(size === 'full' ? 5000 : 1500);
      }
      const st = ctx.emulator.stats();
      return `${ctx.driveProxy!.stats().stalled} stalled bodies, ${st.corrupted} corrupted, ${st.dropped} reset; answers ${JSON.stringify(st.byStatus)}`;
    },
  };
}

export function storeFaults(size: Size): ChaosCase {
  const refuseMs = size === 'full' ? 20_000 : 6_000;
  const holdMs = size === 'full' ? 15_000 : 6_000;
  return {
    fault: `S3 answering 503 to writes for ${refuseMs / 1000} s, then holding every request unanswered for ${holdMs / 1000} s`,
    size,
    files: size === 'full' ? FULL : 400,
    s3Proxy: true,
    env: { FILE_ATTEMPT_TIMEOUT_MS: '5000', DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '150' : '30' },
    inject: async (ctx) => {
      const p = ctx.s3Proxy!;
      await midCopy(ctx, 0.1);
      p.refuse({ methods: ['PUT', 'POST'], status: 503, forMs: refuseMs });
      await sleep(refuseMs + 2000);
      if (!(await ctx.finished())) {
        p.hold({ forMs: holdMs });
        await sleep(holdMs);
      }
      const st = p.stats();
      return `${st.refused} writes refused, ${st.held} requests held`;
    },
  };
}

/** A 2 MB tmpfs for the local store, or why there is none. */
export function mountSmallTmpfs(): { dir: string; unmount(): void } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(dir);
    return { skip: `mount -t tmpfs refused: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    },
  };
}

export function diskFull(size: Size, dir: string): ChaosCase {
  return {
    fault: 'local store on a 2 MB tmpfs: the disk fills up',
    size,
    files: size === 'full' ? FULL : 300,
    // ~20 KB each: a hundred or so fit, the rest do not.
    imageBytes: 20_000,
    storage: 'local',
    localDir: dir,
    env: { FILE_ATTEMPT_TIMEOUT_MS: '10000' },
    acceptFailure: (r) => /ENOSPC|no space/i.test(r.error ?? ''),
    inject: async () => 'files that did not fit must fail with ENOSPC in their reason',
  };
}

/** One page's live view of the job (the web app's own startLive, over the `eventsource` client). */
function liveClient(ctx: ChaosContext) {
  const seen = { pushes: 0, polls: 0, opens: 0, mode: 'connecting' as LiveMode, last: null as { status: string; processed: number } | null };
  const auth = ctx.stack.adminHeaders;
  const stop = startLive<{ status: string; processed: number }>({
    url: `${ctx.stack.gatewayUrl}/api/import/jobs/${ctx.jobId}/events`,
    open: (url) => new EventSource(url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...auth } }) }) as unknown as EventSourceLike,
    poll: async () => [await ctx.status()],
    onUpdate: ([job], via) => {
      if (via === 'push') seen.pushes++;
      else seen.polls++;
      seen.last = job!;
    },
    onMode: (mode) => {
      seen.mode = mode;
      if (mode === 'push') seen.opens++;
    },
    pollMs: 1000,
    reopenMs: 1000,
  });
  return { seen, stop };
}

export function gatewayStreams(size: Size): ChaosCase {
  const clients = size === 'full' ? 200 : 20;
  return {
    fault: `gateway SIGTERMed, then SIGKILLed, while ${clients} clients hold event streams`,
    size,
    files: size === 'full' ? FULL : 400,
    env: { DRIVE_MAX_REQUESTS_PER_SECOND: size === 'full' ? '150' : '40' },
    restart: { baseDelayMs: 1000, maxDelayMs: 1000 },
    inject: async (ctx) => {
      const pages = Array.from({ length: clients }, () => liveClient(ctx));
      const allPushing = (what: string) =>
        waitFor(what, async () => pages.every((p) => p.seen.mode === 'push'), 30_000, 100).catch(() => {
          ctx.problem(`${pages.filter((p) => p.seen.mode !== 'push').length} of ${clients} clients never got their stream back (${what})`);
        });
      const gateway = () => ctx.stack.processes.find((p) => p.name === 'gateway')!;
      try {
        await allPushing('streams open');
        await midCopy(ctx);
        // SIGTERM with the streams open: the graceful stop must end them, not wait on them.
        const child = gateway().child;
        const t0 = Date.now();
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
        const stopMs = Date.now() - t0;
        if (stopMs > 5000) ctx.problem(`the gateway took ${stopMs} ms to stop with ${clients} streams open`);
        await sleep(1500);
        await allPushing('after the SIGTERM');
        await midCopy(ctx, 0.5);
        gateway().child.kill('SIGKILL');
        await sleep(1500);
        await allPushing('after the SIGKILL');
        const end = await ctx.until('the job to end', (s) => TERMINAL_JOB_STATUSES.includes(s.status), 600_000);
        // Every page learns the end, by push (or by its poll while a stream is down).
        await waitFor('every page to see the end', async () => pages.every((p) => p.seen.last?.status === end.status), 15_000, 100).catch(() => {
          ctx.problem(`${pages.filter((p) => p.seen.last?.status !== end.status).length} of ${clients} pages never saw the job end`);
        });
        const short = pages.filter((p) => p.seen.opens < 3);
        if (short.length) ctx.problem(`${short.length} page(s) opened their stream fewer than 3 times (first, after each restart)`);
        const pushes = pages.reduce((n, p) => n + p.seen.pushes, 0);
        const polls = pages.reduce((n, p) => n + p.seen.polls, 0);
        return `SIGTERM stop ${stopMs} ms; ${clients} pages: ${pushes} pushed updates, ${polls} polled while a stream was down`;
      } finally {
        for (const p of pages) p.stop();
      }
    },
  };
}
