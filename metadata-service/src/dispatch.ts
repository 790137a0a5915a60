/**
 * The metadata-service owns every copy batch from first file to done: it seals a batch in the same
 * transaction as its files, then puts it on the copy queue and marks it `queued` (a transactional
 * outbox). A sealed batch whose enqueue failed (Redis down, a crash between commit and enqueue) is
 * found by the sweep, at start-up and on a timer, and enqueued then; so is a queued batch that Redis
 * lost (restarted without its data). Enqueueing twice is harmless:
 * the BullMQ job id is the batch id, and a worker that gets a batch with no pending file copies nothing.
 * A queued batch that BullMQ gave up for good (in its failed set: attempts or take-overs used up) has
 * its pending files failed with the queue's reason, so its job ends rather than waits for ever.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { COPY_JOB_OPTIONS, type CopyBatchRef, type Logger, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { failGivenUpBatch } from './batches.ts';
import type { Db } from './db.ts';

export interface BatchDispatcher {
  /** Enqueue these sealed batches and mark them queued. Never throws: what fails is left to the sweep. */
  dispatch(jobId: string, batchIds: readonly string[]): Promise<void>;
  /** Enqueue every sealed batch of an unfinished job, and every queued one Redis lost; returns how many. */
  sweep(): Promise<number>;
  /** Take these batches off the queue where no worker holds them (a cancelled job's); never throws. */
  remove(batchIds: readonly string[]): Promise<void>;
  /** Sweep now and every `intervalMs` until close(). */
  start(intervalMs: number): void;
  close(): Promise<void>;
}

/** Sealed batches per sweep round: bounded reads and queue calls, however many are waiting. */
const SWEEP_PAGE = 500;

/** onJobChanged: a job the sweep changed (its given-up batch's files failed), for the live events. */
export function createBatchDispatcher(db: Db, queue: Queue<CopyBatchRef>, log: Logger, onJobChanged: (jobId: string) => void = () => {}): BatchDispatcher {
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  async function enqueue(refs: CopyBatchRef[]): Promise<void> {
    if (refs.length === 0) return;
    await queue.addBulk(refs.map((data) => ({ name: 'copy', data, opts: { ...COPY_JOB_OPTIONS, jobId: data.batch_id } })));
    await db.transaction((tx) =>
      tx.batch.updateMany({ where: { id: { in: refs.map((r) => r.batch_id) }, status: 'sealed' }, data: { status: 'queued' } }),
    );
  }

  /** Batches of unfinished jobs in `status`, a page at a time. */
  async function* unfinished(status: 'sealed' | 'queued'): AsyncGenerator<CopyBatchRef[]> {
    let after = '';
    for (;;) {
      const batches = await db.read.batch.findMany({
        where: { status, id: { gt: after }, job: { status: { notIn: [...TERMINAL_JOB_STATUSES] } } },
        select: { id: true, jobId: true },
        orderBy: { id: 'asc' },
        take: SWEEP_PAGE,
      });
      if (batches.length === 0) return;
      yield batches.map((b) => ({ job_id: b.jobId, batch_id: b.id }));
      after = batches[batches.length - 1]!.id;
    }
  }

  /**
   * Of these queued batches, the ones Redis no longer has (lost in a Redis restart without AOF) and
   * the ones BullMQ gave up (in the failed set), with its reason.
   */
  async function queueStates(refs: CopyBatchRef[]): Promise<{ lost: CopyBatchRef[]; givenUp: Array<{ ref: CopyBatchRef; reason: string }> }> {
    // BullMQ types its client as Redis | Cluster; the queue here is always on one Redis.
    const redis = (await queue.client) as unknown as Redis;
    const pipeline = redis.pipeline();
    const failedSet = queue.toKey('failed');
    for (const r of refs) pipeline.exists(queue.toKey(r.batch_id)).zscore(failedSet, r.batch_id);
    const answers = (await pipeline.exec()) ?? [];
    const lost: CopyBatchRef[] = [];
    const failed: CopyBatchRef[] = [];
    // A done batch's BullMQ job is removed, but its row is `done` by then, so it is never asked about.
    refs.forEach((ref, i) => {
      if (answers[2 * i]?.[1] === 0) lost.push(ref);
      else if (answers[2 * i + 1]?.[1] != null) failed.push(ref);
    });
    // The reason is read only for the (rare) given-up ones.
    const givenUp: Array<{ ref: CopyBatchRef; reason: string }> = [];
    for (const ref of failed) givenUp.push({ ref, reason: (await redis.hget(queue.toKey(ref.batch_id), 'failedReason')) ?? 'failed' });
    return { lost, givenUp };
  }

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for await (const refs of unfinished('sealed')) {
      await enqueue(refs);
      total += refs.length;
    }
    for await (const refs of unfinished('queued')) {
      const { lost, givenUp } = await queueStates(refs);
      for (const { ref, reason } of givenUp) {
        log.warn({ job_id: ref.job_id, batch_id: ref.batch_id, reason }, 'the copy queue gave a batch up: its pending files fail');
        try {
          await failGivenUpBatch(db, ref.batch_id, ref.job_id, reason);
          onJobChanged(ref.job_id);
        } catch (err) {
          // One batch that cannot be settled (its job deleted meanwhile) holds up no other.
          log.warn({ batch_id: ref.batch_id, err: (err as Error).message }, 'could not fail a given-up batch; next round will retry');
        }
      }
      if (lost.length === 0) continue;
      log.warn({ batches: lost.length }, 'queued batches missing from Redis: enqueued again');
      await enqueue(lost);
      total += lost.length;
    }
    return total;
  }

  const dispatcher: BatchDispatcher = {
    async dispatch(jobId, batchIds) {
      try {
        await enqueue(batchIds.map((batch_id) => ({ job_id: jobId, batch_id })));
      } catch (err) {
        log.warn({ job_id: jobId, batches: batchIds.length, err: (err as Error).message }, 'could not enqueue sealed batches; the sweep will');
      }
    },
    async remove(batchIds) {
      // A batch a worker holds (locked) stays; it finds its job ended and copies nothing more.
      const removed = await Promise.allSettled(batchIds.map((id) => queue.remove(id)));
      const failed = removed.filter((r) => r.status === 'rejected').length;
      if (failed) log.warn({ batches: failed }, 'could not remove some batches from the queue; they will copy nothing');
    },
    sweep() {
      // One sweep at a time: the timer and a caller never enqueue the same page twice at once.
      sweeping ??= sweepOnce().finally(() => (sweeping = undefined));
      return sweeping;
    },
    start(intervalMs) {
      const run = () =>
        dispatcher
          .sweep()
          .then((n) => n > 0 && log.info({ batches: n }, 'sweep enqueued sealed batches'))
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'batch sweep failed; next round will retry'));
      void run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      await sweeping?.catch(() => {});
    },
  };
  return dispatcher;
}
