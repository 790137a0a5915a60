import { AppError, closeQueue, createLogger, type Logger, QUEUES, redisConnection, serveApp, ServiceClient, TokenIdentity } from '@drive-import/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createGatewayApp } from './app.ts';
import { createJobEventHub } from './live.ts';
import type { GatewayConfig } from './config.ts';

export { ADMIN_BASE_PATH, createGatewayApp } from './app.ts';
export { createAuth, ENV_ADMIN, type AuthOptions, type Caller } from './auth.ts';
export { createJobEventHub, type JobEventHub } from './live.ts';
export { SESSION_COOKIE } from './session.ts';
export { loadGatewayConfig, type GatewayConfig } from './config.ts';

/** Serve the gateway (port 0 picks a free one). */
export async function startGateway(config: GatewayConfig, options: { port?: number; host?: string; log?: Logger } = {}) {
  const log = options.log ?? createLogger('gateway', config.LOG_LEVEL);
  const connection = redisConnection(config.REDIS_URL);
  // The dashboard's queues, for admin tokens.
  const queues = [QUEUES.listing, QUEUES.copy].map((name) => new Queue(name, { connection, prefix: config.QUEUE_PREFIX }));
  for (const q of queues) q.on('error', (err) => log.error({ err, queue: q.name }, 'queue error'));
  // One budget per token across every gateway replica; with Redis away each replica keeps its own.
  const redis = config.RATE_LIMIT_PER_MINUTE > 0 ? new Redis({ ...connection, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : null;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'rate limiter redis error'));
  const budget = { points: config.RATE_LIMIT_PER_MINUTE, duration: 60 };
  const limiter = redis
    ? new RateLimiterRedis({ ...budget, storeClient: redis, keyPrefix: `${config.QUEUE_PREFIX}:ratelimit`, insuranceLimiter: new RateLimiterMemory(budget) })
    : null;
  const internal = { token: config.INTERNAL_TOKEN };
  const metadataService = new ServiceClient('metadata-service', config.METADATA_SERVICE_URL, internal);
  const jobEvents = createJobEventHub(config.REDIS_URL, config.QUEUE_PREFIX, log);
  const app = createGatewayApp({
    log,
    jobEvents,
    demoFolderUrl: config.DEMO_FOLDER_URL,
    importService: new ServiceClient('import-service', config.IMPORT_SERVICE_URL, internal),
    metadataService,
    storageService: new ServiceClient('storage-service', config.STORAGE_SERVICE_URL, internal),
    auth: {
      adminToken: config.ADMIN_TOKEN,
      cacheTtlMs: config.AUTH_CACHE_TTL_MS,
      limiter,
      lookup: (hash) =>
        metadataService.call('POST', '/tokens/verify', { body: { hash }, schema: TokenIdentity, timeoutMs: 5000 }).catch((err: unknown) => {
          if (err instanceof AppError && err.status === 404) return null;
          throw err;
        }),
    },
    queues,
  });
  const closeAll = () => Promise.allSettled([...queues.map((q) => closeQueue(q)), redis?.quit(), jobEvents.close()]);
  let server: Awaited<ReturnType<typeof serveApp>>;
  try {
    server = await serveApp(app, { port: options.port ?? config.GATEWAY_PORT, hostname: options.host ?? config.GATEWAY_HOST });
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.info({ url: server.url, rate_limit_per_minute: config.RATE_LIMIT_PER_MINUTE }, 'gateway listening');
  return {
    ...server,
    close: async () => {
      await server.close();
      await closeAll();
    },
  };
}
