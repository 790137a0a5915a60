import { closeQueue, createLogger, type Logger, QUEUES, redisConnection, serveApp, ServiceClient } from '@drive-import/common';
import { Queue } from 'bullmq';
import { createGatewayApp } from './app.ts';
import type { GatewayConfig } from './config.ts';

export { ADMIN_BASE_PATH, createGatewayApp } from './app.ts';
export { loadGatewayConfig, type GatewayConfig } from './config.ts';

/** Serve the gateway (port 0 picks a free one). */
export async function startGateway(config: GatewayConfig, options: { port?: number; host?: string; log?: Logger } = {}) {
  const log = options.log ?? createLogger('gateway', config.LOG_LEVEL);
  // The dashboard's queues: only with ADMIN_TOKEN set, so a gateway without it never touches Redis.
  const queues = config.ADMIN_TOKEN
    ? [QUEUES.listing, QUEUES.copy].map((name) => new Queue(name, { connection: redisConnection(config.REDIS_URL), prefix: config.QUEUE_PREFIX }))
    : [];
  for (const q of queues) q.on('error', (err) => log.error({ err, queue: q.name }, 'queue error'));
  const app = createGatewayApp({
    log,
    importService: new ServiceClient('import-service', config.IMPORT_SERVICE_URL),
    metadataService: new ServiceClient('metadata-service', config.METADATA_SERVICE_URL),
    storageService: new ServiceClient('storage-service', config.STORAGE_SERVICE_URL),
    admin: config.ADMIN_TOKEN ? { token: config.ADMIN_TOKEN, queues } : undefined,
  });
  let server: Awaited<ReturnType<typeof serveApp>>;
  try {
    server = await serveApp(app, { port: options.port ?? config.GATEWAY_PORT, hostname: options.host ?? config.GATEWAY_HOST });
  } catch (err) {
    await Promise.allSettled(queues.map((q) => closeQueue(q)));
    throw err;
  }
  log.info({ url: server.url, admin_dashboard: queues.length > 0 }, 'gateway listening');
  return {
    ...server,
    close: async () => {
      await server.close();
      await Promise.allSettled(queues.map((q) => closeQueue(q)));
    },
  };
}
