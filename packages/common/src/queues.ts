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
