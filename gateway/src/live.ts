/**
 * Live job progress as Server-Sent Events. The metadata-service publishes each changed job's summary
 * on Redis (`<QUEUE_PREFIX>:job-events`, throttled per job); every gateway replica subscribes once and
 * hands each message to its open streams, so any replica serves any client whichever worker moved
 * the job.
 *
 *   GET /api/import/events            event `job` (a JobSummary) for every job the caller may see
 *   GET /api/import/jobs/:id/events   event `job`: the job now, then each change
 *
 * Both send `ping` every 15 s (proxies and browsers keep the connection) and `retry: 3000`.
 */
import { AppError, JobSummary, type Logger, redisConnection, type ServiceClient } from '@drive-import/common';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { Redis } from 'ioredis';
import { type Caller, type GatewayEnv, scope } from './auth.ts';

export type JobListener = (job: JobSummary) => void;

export interface JobEventHub {
  /** Called with each job summary published from now on; returns the unsubscribe. */
  subscribe(listener: JobListener): () => void;
  close(): Promise<void>;
}

/** One Redis subscription per process, fanned out to every listener. */
export function createJobEventHub(redisUrl: string, prefix: string, log: Logger): JobEventHub {
  const listeners = new Set<JobListener>();
  const redis = new Redis({ ...redisConnection(redisUrl), maxRetriesPerRequest: null });
  redis.on('error', (err) => log.warn({ err: err.message }, 'job events redis error'));
  const channel = `${prefix}:job-events`;
  void redis.subscribe(channel).catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'job events subscribe failed'));
  redis.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    let job: JobSummary;
    try {
      job = JobSummary.parse(JSON.parse(message));
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'job event ignored: not a job summary');
      return;
    }
    for (const listener of listeners) listener(job);
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

const visibleTo = (caller: Caller, job: JobSummary) => caller.admin || job.owner === caller.name;

export const PING_MS = 15_000;

export function mountLiveRoutes(app: Hono<GatewayEnv>, deps: { hub?: JobEventHub; metadataService: ServiceClient; jobIdParam: (c: Context) => string }) {
  const { hub, metadataService } = deps;
  const stream = (c: Context, caller: Caller, onlyJob: string | null, first: JobSummary | null) => {
    if (!hub) throw new AppError(503, 'live_updates_unavailable', 'Live updates need Redis; poll GET /api/import/status/:job_id instead');
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no'); // nginx: do not buffer the stream
    return streamSSE(c, async (sse) => {
      let seq = 0;
      // Queued, not written from the Redis callback: one writer at a time keeps events whole.
      const queue: JobSummary[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = hub.subscribe((job) => {
        if (onlyJob !== null && job.job_id !== onlyJob) return;
        if (!visibleTo(caller, job)) return;
        // A slow client holds at most one pending summary per job: the newest replaces the older.
        const at = queue.findIndex((j) => j.job_id === job.job_id);
        if (at >= 0) queue[at] = job;
        else queue.push(job);
        wake?.();
      });
      let closed = false;
      sse.onAbort(() => {
        closed = true;
        unsubscribe();
        wake?.();
      });
      try {
        await sse.writeSSE({ event: 'ready', data: JSON.stringify({ job_id: onlyJob }), retry: 3000 });
        if (first) await sse.writeSSE({ event: 'job', id: String(++seq), data: JSON.stringify(first) });
        while (!closed) {
          const job = queue.shift();
          if (job) {
            await sse.writeSSE({ event: 'job', id: String(++seq), data: JSON.stringify(job) });
            continue;
          }
          const timer = new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), PING_MS);
            wake = () => {
              clearTimeout(t);
              resolve(false);
            };
          });
          const idle = await timer;
          wake = null;
          if (idle && !closed) await sse.writeSSE({ event: 'ping', data: String(Date.now()) });
        }
      } finally {
        unsubscribe();
      }
    });
  };

  app.get('/api/import/events', (c) => stream(c, c.get('caller'), null, null));

  app.get('/api/import/jobs/:job_id/events', async (c) => {
    const id = deps.jobIdParam(c).toLowerCase();
    if (!hub) return stream(c, c.get('caller'), id, null); // the 503
    // The job as it is now (and a 404 for another token's job) before any change.
    const first = await metadataService.call('GET', `/jobs/${id}`, { requestId: c.get('requestId'), headers: scope(c.get('caller')), schema: JobSummary });
    return stream(c, c.get('caller'), first.job_id, first);
  });
}
