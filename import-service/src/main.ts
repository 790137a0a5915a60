import { ConfigError, createLogger, onShutdown } from '@drive-import/common';
import { loadImportConfig, startImportService } from './index.ts';

const log = createLogger('import-service');
try {
  const config = loadImportConfig();
  log.level = config.LOG_LEVEL;
  const running = await startImportService(config, { log });
  // worker.close() first (active listings finish or are released), then the HTTP server.
  onShutdown(log, () => running.close());
} catch (err) {
  if (err instanceof ConfigError) log.fatal(err.message);
  else log.fatal({ err }, 'import-service failed to start');
  process.exit(1);
}
