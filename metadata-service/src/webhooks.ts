/**
 * Job callbacks: when a job with a callback_url ends, its summary is POSTed there once, signed
 * (HMAC-SHA256 of `<timestamp>.<body>` with WEBHOOK_SECRET, in `X-Drive-Import-Signature:
 * t=<timestamp>,v1=<hex>`), retried with exponential backoff on a BullMQ queue; every attempt is kept
 * as a delivery of the job. Ended jobs whose callback is pending are found by a sweep (an outbox: a
 * crash between the job's end and the send loses nothing). The target is resolved and checked before
 * each attempt and the request goes to that checked address.
 */
import { createHmac } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Agent, request } from 'undici';
import {
  AppError,
  clipText,
  closeQueue,
  type Logger,
  redisConnection,
  resolveWebhookTarget,
  TERMINAL_JOB_STATUSES,
  type WebhookDeliveriesResponse,
  type WebhookTarget,
} from '@drive-import/common';
import type { Db } from './db.ts';
import { loadJob } from './jobs.ts';
import { toJobSummary } from './records.ts';

export const WEBHOOK_QUEUE = 'webhooks';

export interface WebhookOptions {
  secret: string;
  /** Hosts a callback may name although they resolve to loopback or private addresses. */
  allowHosts: readonly string[];
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
}

export interface Webhooks {
  /** The first sweep now, then every `intervalMs`. */
  start(intervalMs?: number): void;
  close(): Promise<void>;
}

/** `t=<unix s>,v1=<hex hmac>` over `<t>.<body>`: the receiver recomputes it with the shared secret. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A dispatcher that connects to the checked address whatever DNS says now (no rebinding). */
function pinnedAgent(target: WebhookTarget, timeoutMs: number): Agent {
  return new Agent({
    connectTimeout: timeoutMs,
    connect: {
      lookup: (_host, options, callback) => {
        const all = (options as { all?: boolean }).all;
        if (all) (callback as (err: null, addresses: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
        else callback(null, target.address, target.family);
      },
    },
  });
}

const SWEEP_PAGE = 100;

export function createWebhooks(db: Db, redisUrl: string, prefix: string, options: WebhookOptions, log: Logger): Webhooks {
  const connection = redisConnection(redisUrl);
  const queue = new Queue<{ job_id: string }>(WEBHOOK_QUEUE, { connection, prefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'webhook queue error'));
  let timer: NodeJS.Timeout | undefined;

  async function record(jobId: string, attempt: number, statusCode: number | null, ok: boolean, error: string | null) {
    await db.transaction((tx) => tx.webhookDelivery.create({ data: { jobId, attempt, at: new Date(), statusCode, ok, error: error && clipText(error, 2000) } }));
  }
  const setState = (jobId: string, state: 'delivered' | 'failed') =>
    db.transaction((tx) => tx.importJob.update({ where: { id: jobId }, data: { callbackState: state } }));

  const worker = new Worker<{ job_id: string }>(
    WEBHOOK_QUEUE,
    async (bull) => {
      const job = await loadJob(db.read, bull.data.job_id);
      if (job.callbackState !== 'pending' || !job.callbackUrl) return;
      const attempt = bull.attemptsMade + 1;
      const last = attempt >= options.maxAttempts;
      let target: WebhookTarget;
      try {
        target = await resolveWebhookTarget(job.callbackUrl, options.allowHosts);
      } catch (err) {
        await record(job.id, attempt, null, false, err instanceof Error ? err.message : String(err));
        if (err instanceof AppError) {
          await setState(job.id, 'failed');
          throw new UnrecoverableError(err.message);
        }
        throw err;
      }
      const body = JSON.stringify(toJobSummary(job));
      const agent = pinnedAgent(target, options.timeoutMs);
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const res = await request(target.url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'drive-import-webhook',
            'x-drive-import-event': 'job.finished',
            'x-drive-import-delivery': `${job.id}-${attempt}`,
            'x-drive-import-signature': signWebhook(options.secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        statusCode = res.statusCode;
        await res.body.dump();
        if (statusCode < 200 || statusCode >= 300) error = `the receiver answered ${statusCode}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      } finally {
        await agent.close();
      }
      await record(job.id, attempt, statusCode, error === null, error);
      if (error === null) return setState(job.id, 'delivered').then(() => undefined);
      if (last) {
        await setState(job.id, 'failed');
        log.warn({ job_id: job.id, attempts: attempt, err: error }, 'webhook given up');
        throw new UnrecoverableError(error);
      }
      throw new Error(error);
    },
    { connection, prefix, concurrency: 4 },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'webhook worker error'));

  /** Ended jobs with a pending callback onto the queue (the job id dedupes: one delivery chain per job). */
  async function sweep(): Promise<void> {
    let after = '';
    for (;;) {
      const jobs = await db.read.importJob.findMany({
        where: { callbackState: 'pending', status: { in: [...TERMINAL_JOB_STATUSES] }, id: { gt: after } },
        select: { id: true },
        orderBy: { id: 'asc' },
        take: SWEEP_PAGE,
      });
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((j) => ({
          name: 'deliver',
          data: { job_id: j.id },
          opts: {
            jobId: `hook-${j.id}`,
            attempts: options.maxAttempts,
            backoff: { type: 'exponential', delay: options.retryBaseMs },
            removeOnComplete: { age: 24 * 3600, count: 1000 },
            removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
          },
        })),
      );
      after = jobs[jobs.length - 1]!.id;
    }
  }

  let sweeping: Promise<void> | undefined;
  const run = () => {
    sweeping ??= sweep()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'webhook sweep failed; next round will retry'))
      .finally(() => (sweeping = undefined));
  };
  return {
    start(intervalMs = 1000) {
      run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await sweeping;
      await worker.close();
      await closeQueue(queue);
    },
  };
}

/** The job's deliveries, newest first. */
export async function listDeliveries(db: Db, id: string, owner?: string): Promise<WebhookDeliveriesResponse> {
  const job = await loadJob(db.read, id, owner);
  const rows = await db.read.webhookDelivery.findMany({ where: { jobId: job.id }, orderBy: { id: 'desc' }, take: 100 });
  return { deliveries: rows.map((r) => ({ attempt: r.attempt, at: r.at.toISOString(), status_code: r.statusCode, ok: r.ok, error: r.error })) };
}
