/** Queue names, shared by producers and consumers. BullMQ's `prefix` comes from QUEUE_PREFIX. */
export const QUEUES = {
  /** One job per import: walk the Drive folder tree and fill copy batches. */
  listing: 'listing',
  /** One job per batch of at most BATCH_SIZE files. */
  copy: 'copy',
} as const;

export const listingJobId = (jobId: string) => `list-${jobId}`;

/** Parse a redis:// URL into ioredis options (BullMQ wants maxRetriesPerRequest: null on workers). */
export function redisConnection(redisUrl: string) {
  const u = new URL(redisUrl);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname && u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/**
 * Close a BullMQ queue (or worker) that may still be connecting. BullMQ 5 removes the connection's
 * listeners when closed mid-connect, and the connect it abandons then rejects with nobody listening:
 * an unhandled 'Connection is closed.' that kills the process. Waiting briefly for the connection
 * first avoids that; with Redis away the wait ends after `waitMs` and the close goes ahead.
 */
export async function closeQueue(queue: { waitUntilReady(): Promise<unknown>; close(): Promise<void> }, waitMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
  });
  await Promise.race([queue.waitUntilReady().catch(() => {}), timeout]);
  clearTimeout(timer);
  await queue.close();
}

/**
 * Copy batches: retried with backoff when a worker cannot finish one (e.g. the metadata-service is
 * down). Once a batch's results are recorded its Redis copy has no use (the database is the record,
 * and the metadata-service never re-enqueues a batch it saw done), so only a few are kept, for the
 * dashboard: a day of a million files must not fill a Redis that runs with `noeviction`.
 */
export const COPY_JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 3600, count: 500 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} as const;

/** Listing jobs: a crashed or failed walk is retried; the walk is idempotent (upserts, batch ids). */
export const LISTING_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;
