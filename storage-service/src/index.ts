import { configuredDestinations, createLogger, serveApp, ServiceClient, type Logger } from '@drive-import/common';
import { createStorageDriver, LocalDriver, secretsOf, type StorageDriver, type StorageProvider } from '@drive-import/storage';
import { createStorageApp } from './app.ts';
import { metadataCatalog } from './catalog.ts';
import type { StorageServiceConfig } from './config.ts';
import { createStoreHealth } from './store-health.ts';

export { createStorageApp, contentDisposition, type StorageAppDeps } from './app.ts';
export { metadataCatalog, type StoredObjectCatalog } from './catalog.ts';
export { createStoreHealth, type StoreHealth, type StoreHealthOptions } from './store-health.ts';
export { loadStorageServiceConfig, storageServiceEnv, type StorageServiceConfig } from './config.ts';

/** Serve the storage-service (port 0 picks a free one); `close` also stops the health probe and closes the drivers. */
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
      urlSigningSecret: config.INTERNAL_TOKEN,
    });
  }
  // Debris of crashed uploads goes at start (in the background; the worker's driver sweeps on its first put too).
  if (drivers.local instanceof LocalDriver) {
    drivers.local.sweep().then(
      (removed) => removed > 0 && log.info({ removed }, 'stale upload temp files removed'),
      (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'temp file sweep failed'),
    );
  }
  const defaultDriver = drivers[config.STORAGE_PROVIDER]!;
  const storeHealth = createStoreHealth(() => defaultDriver.check(), { intervalMs: config.STORAGE_HEALTH_INTERVAL_MS, secrets: secretsOf(config) });
  const catalog = metadataCatalog(new ServiceClient('metadata-service', config.METADATA_SERVICE_URL, { token: config.INTERNAL_TOKEN, timeoutMs: 5_000 }));
  const app = createStorageApp({
    log,
    defaultProvider: config.STORAGE_PROVIDER,
    drivers,
    catalog,
    storeHealth,
    keyPrefix: config.STORAGE_KEY_PREFIX,
    internalToken: config.INTERNAL_TOKEN,
  });
  let server: Awaited<ReturnType<typeof serveApp>>;
  try {
    server = await serveApp(app, { port: options.port ?? config.STORAGE_SERVICE_PORT, hostname: options.host ?? config.STORAGE_SERVICE_HOST });
  } catch (err) {
    storeHealth.stop();
    throw err;
  }
  ownUrl = server.url;
  log.info({ url: server.url, provider: config.STORAGE_PROVIDER, providers: Object.keys(drivers), health_interval_ms: config.STORAGE_HEALTH_INTERVAL_MS }, 'storage-service listening');
  return {
    url: server.url,
    port: server.port,
    close: async () => {
      storeHealth.stop();
      await server.close();
      await Promise.all(Object.values(drivers).map((d) => d.close()));
    },
  };
}
