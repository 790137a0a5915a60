import { createLogger, type Logger, serveApp, ServiceClient } from '@drive-import/common';
import { createGatewayApp } from './app.ts';
import type { GatewayConfig } from './config.ts';

export { createGatewayApp } from './app.ts';
export { loadGatewayConfig, type GatewayConfig } from './config.ts';

/** Serve the gateway (port 0 picks a free one). */
export async function startGateway(config: GatewayConfig, options: { port?: number; host?: string; log?: Logger } = {}) {
  const log = options.log ?? createLogger('gateway', config.LOG_LEVEL);
  const app = createGatewayApp({
    log,
    importService: new ServiceClient('import-service', config.IMPORT_SERVICE_URL),
    metadataService: new ServiceClient('metadata-service', config.METADATA_SERVICE_URL),
    storageService: new ServiceClient('storage-service', config.STORAGE_SERVICE_URL),
  });
  const server = await serveApp(app, { port: options.port ?? config.GATEWAY_PORT, hostname: options.host ?? config.GATEWAY_HOST });
  log.info({ url: server.url }, 'gateway listening');
  return server;
}
