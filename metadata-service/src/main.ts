import { ConfigError, createLogger, onShutdown } from '@drive-import/common';
import { loadMetadataServiceConfig, startMetadataService } from './index.ts';

try {
  const config = loadMetadataServiceConfig();
  const log = createLogger('metadata-service', config.LOG_LEVEL);
  const service = await startMetadataService({
    databaseUrl: config.DATABASE_URL,
    port: config.METADATA_SERVICE_PORT,
    host: config.METADATA_SERVICE_HOST,
    log,
  });
  onShutdown(log, () => service.close());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
