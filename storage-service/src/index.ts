import { configuredDestinations, createLogger, serveApp, type Logger } from '@drive-import/common';
import { createStorageDriver, type StorageDriver, type StorageProvider } from '@drive-import/storage';
import { createStorageApp } from './app.ts';
import type { StorageServiceConfig } from './config.ts';

export { createStorageApp, type StorageAppDeps } from './app.ts';
export { loadStorageServiceConfig, storageServiceEnv, type StorageServiceConfig } from './config.ts';

/** Serve the storage-service (port 0 picks a free one); `close` also closes the drivers. */
export async function startStorageService(
  config: StorageServiceConfig,
  options: { port?: number; host?: string; log?: Logger } = {},
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const log = options.log ?? createLogger('storage-service', config.LOG_LEVEL);
  if (!configuredDestinations(config).includes(config.STORAGE_PROVIDER)) {
    // Fails with the missing variable's name (e.g. S3_BUCKET).
    createStorageDriver(config.STORAGE_PROVIDER, config);
  }
  let ownUrl: string | undefined;
  const drivers: Partial<Record<StorageProvider, StorageDriver>> = {};
  for (const provider of configuredDestinations(config)) {
    // Local read URLs point at this service: the configured URL, or where it really listens (port 0).
    const freePort = (options.port ?? config.STORAGE_SERVICE_PORT) === 0;
    drivers[provider] = createStorageDriver(provider, config, {
      localReadBaseUrl: () => (freePort && ownUrl ? ownUrl : config.STORAGE_SERVICE_URL),
    });
  }
  const app = createStorageApp({ log, defaultProvider: config.STORAGE_PROVIDER, drivers, internalToken: config.INTERNAL_TOKEN });
  const server = await serveApp(app, { port: options.port ?? config.STORAGE_SERVICE_PORT, hostname: options.host ?? config.STORAGE_SERVICE_HOST });
  ownUrl = server.url;
  log.info({ url: server.url, provider: config.STORAGE_PROVIDER, providers: Object.keys(drivers) }, 'storage-service listening');
  return {
    url: server.url,
    port: server.port,
    close: async () => {
      await server.close();
      await Promise.all(Object.values(drivers).map((d) => d.close()));
    },
  };
}
