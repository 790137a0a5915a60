import { ConfigError, createLogger, onShutdown } from '@drive-import/common';
import { loadStorageServiceConfig, startStorageService } from './index.ts';

try {
  const config = loadStorageServiceConfig();
  const log = createLogger('storage-service', config.LOG_LEVEL);
  const service = await startStorageService(config, { log });
  onShutdown(log, () => service.close());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
