/**
 * What a person does to a job after starting it: cancel it (its queued batches leave the queue, a
 * running batch stops taking new files, what was copied keeps its row) or retry its failed files
 * (they go into new copy batches of their own, sealed and dispatched like the listing's).
 */
import { ACTOR_HEADER, batchIdFor, conflict, type JobSummary } from '@drive-import/common';
import { recordActivity } from './activity.ts';
import type { Context, Hono } from 'hono';
import type { Db } from './db.ts';
import type { BatchDispatcher } from './dispatch.ts';
import { isTerminal, loadJob } from './jobs.ts';
import { toJobSummary } from './records.ts';
import type { StatusCache } from './status-cache.ts';

/** Failed files moved per transaction: a retry of 100,000 failures never holds one long write. */
const RETRY_CHUNK = 5000;
/** Batch ids read (and removed from the queue) per round when a job is cancelled. */
const CANCEL_PAGE = 500;

export async function cancelJob(db: Db, dispatcher: BatchDispatcher, id: string, owner?: string, actor = 'unknown'): Promise<JobSummary> {
  const job = await db.transaction(async (tx) => {
    const job = await loadJob(tx, id, owner);
    if (job.status === 'cancelled') return job;
    if (isTerminal(job.status)) throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');
    const now = new Date();
    await recordActivity(tx, { actor, action: 'job.cancel', job_id: job.id, detail: null }, now);
    return tx.importJob.update({ where: { id: job.id }, data: { status: 'cancelled', finishedAt: now, startedAt: job.startedAt ?? now } });
  });
  // The job is terminal now, so a batch that still reaches a worker hands it no file; removing them
  // from the queue just spares the round trips. Active ones stay (a worker holds them) and finish early.
  let after = '';
  for (;;) {
    const batches = await db.read.batch.findMany({
      where: { jobId: job.id, status: { not: 'done' }, id: { gt: after } },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: CANCEL_PAGE,
    });
    if (batches.length === 0) break;
    await dispatcher.remove(batches.map((b) => b.id));
    after = batches[batches.length - 1]!.id;
  }
  return toJobSummary(job);
}

/**
 * Put the job's failed files back to pending in new batches and the job back to processing. Only a
 * job that ended with failures can be retried; a cancelled one is imported again instead (which
 * skips what is stored unchanged).
 */
export async function retryJob(db: Db, dispatcher: BatchDispatcher, id: string, owner?: string, actor = 'unknown'): Promise<JobSummary> {
  let job = await loadJob(db.read, id, owner);
  if (!['completed_with_errors', 'failed'].includes(job.status) || !job.listingComplete) {
    throw conflict(
      job.status === 'cancelled'
        ? `Job ${id} was cancelled: start the import again (files already stored are skipped)`
        : `Job ${id} is ${job.status}: only a finished job with failed files (or a failed job whose listing completed) can be retried`,
      'job_not_retryable',
    );
  }
  await db.transaction((tx) => recordActivity(tx, { actor, action: 'job.retry', job_id: job.id, detail: `${job.failedFiles} failed files` }));
  for (;;) {
    const round = await db.transaction(async (tx) => {
      const current = await loadJob(tx, id);
      const failed = await tx.file.findMany({ where: { jobId: current.id, status: 'failed' }, select: { id: true }, orderBy: { id: 'asc' }, take: RETRY_CHUNK });
      if (failed.length === 0) return { job: current, sealed: [] as string[] };
      const now = new Date();
      const sealed: string[] = [];
      for (let i = 0; i < failed.length; i += current.batchSize) {
        const index = current.nextBatchIndex + sealed.length;
        const batchId = batchIdFor(current.id, index);
        const ids = failed.slice(i, i + current.batchSize).map((f) => f.id);
        await tx.batch.create({ data: { id: batchId, jobId: current.id, index, status: 'sealed', fileCount: ids.length, createdAt: now, updatedAt: now, sealedAt: now } });
        await tx.file.updateMany({ where: { id: { in: ids } }, data: { status: 'pending', batchId, error: null, attempts: 0, updatedAt: now } });
        sealed.push(batchId);
      }
      const updated = await tx.importJob.update({
        where: { id: current.id },
        data: { failedFiles: { decrement: failed.length }, nextBatchIndex: { increment: sealed.length }, status: 'processing', finishedAt: null, error: null },
      });
      return { job: updated, sealed };
    });
    job = round.job;
    if (round.sealed.length === 0) break;
    await dispatcher.dispatch(job.id, round.sealed);
  }
  return toJobSummary(job);
}

/** Pause: the job's batches wait (a running one finishes its files) until resume; the listing goes on. */
export async function pauseJob(db: Db, _dispatcher: BatchDispatcher, id: string, owner?: string, actor = 'unknown'): Promise<JobSummary> {
  const job = await db.transaction(async (tx) => {
    const job = await loadJob(tx, id, owner);
    if (job.status === 'paused') return job;
    if (isTerminal(job.status)) throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');
    await recordActivity(tx, { actor, action: 'job.pause', job_id: job.id, detail: null });
    return tx.importJob.update({ where: { id: job.id }, data: { status: 'paused' } });
  });
  return toJobSummary(job);
}

/** Resume: back to listing or processing; the waiting batches are picked up again within seconds. */
export async function resumeJob(db: Db, _dispatcher: BatchDispatcher, id: string, owner?: string, actor = 'unknown'): Promise<JobSummary> {
  const job = await db.transaction(async (tx) => {
    const job = await loadJob(tx, id, owner);
    if (job.status !== 'paused') {
      if (isTerminal(job.status)) throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');
      return job;
    }
    await recordActivity(tx, { actor, action: 'job.resume', job_id: job.id, detail: null });
    return tx.importJob.update({ where: { id: job.id }, data: { status: job.listingComplete ? 'processing' : 'listing' } });
  });
  return toJobSummary(job);
}

export interface ControlRouteDeps {
  db: Db;
  dispatcher: BatchDispatcher;
  statusCache: StatusCache;
  /** The caller's owner scope (OWNER_HEADER), undefined for all jobs. */
  ownerOf: (c: Context) => string | undefined;
}

export function mountControlRoutes(app: Hono<any>, deps: ControlRouteDeps): void {
  for (const [action, run] of [['cancel', cancelJob], ['retry', retryJob], ['pause', pauseJob], ['resume', resumeJob]] as const) {
    app.post(`/jobs/:id/${action}`, async (c) => {
      const job = await run(deps.db, deps.dispatcher, c.req.param('id'), deps.ownerOf(c), c.req.header(ACTOR_HEADER) || undefined);
      deps.statusCache.invalidate(job.job_id);
      return c.json(job);
    });
  }
}
