/**
 * Job progress, pushed: every change to a job (each place that drops its status-cache entry) asks for
 * a publish of the job's summary on Redis channel `<QUEUE_PREFIX>:job-events`, which every gateway
 * replica relays to its Server-Sent-Events clients. Throttled per job: at most one publish per
 * `intervalMs` (a job moving 1,000 files a second costs ~4 reads and messages a second), and the
 * trailing one always goes, reading the job as it is then, so the last state (a status change,
 * 100 %) is never lost.
 */
import type { JobSummary, Logger } from '@drive-import/common';
import type { Db } from './db.ts';
import { getJob } from './jobs.ts';

export const jobEventsChannel = (prefix: string) => `${prefix}:job-events`;

export interface JobEvents {
  /** The job changed: publish its summary soon. */
  changed(jobId: string): void;
  close(): Promise<void>;
}

/** Anything that can PUBLISH (the copy queue's ioredis client). */
export interface Publisher {
  publish(channel: string, message: string): Promise<unknown>;
}

export function createJobEvents(db: Db, publisher: () => Promise<Publisher>, prefix: string, log: Logger, intervalMs = 250): JobEvents {
  const channel = jobEventsChannel(prefix);
  /** Per job: when it was last published, and the pending timer (at most one). */
  const jobs = new Map<string, { last: number; timer: NodeJS.Timeout | null }>();
  const inFlight = new Set<Promise<void>>();

  const publish = (id: string) => {
    const task = (async () => {
      const summary: JobSummary = await getJob(db, id);
      await (await publisher()).publish(channel, JSON.stringify(summary));
    })()
      .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err), job_id: id }, 'job event not published'))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  return {
    changed(jobId) {
      const id = jobId.toLowerCase();
      const entry = jobs.get(id) ?? { last: 0, timer: null };
      jobs.set(id, entry);
      if (entry.timer) return; // the pending publish will read the newest state
      const wait = Math.max(0, entry.last + intervalMs - Date.now());
      entry.timer = setTimeout(() => {
        entry.timer = null;
        entry.last = Date.now();
        publish(id);
        // Forget quiet jobs so the map stays as small as the set of moving ones.
        setTimeout(() => {
          if (!entry.timer && Date.now() - entry.last >= intervalMs && jobs.get(id) === entry) jobs.delete(id);
        }, intervalMs).unref();
      }, wait);
      entry.timer.unref();
    },
    async close() {
      for (const entry of jobs.values()) if (entry.timer) clearTimeout(entry.timer);
      jobs.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
