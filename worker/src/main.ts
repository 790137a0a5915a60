import { ConfigError, createLogger, onShutdown } from '@drive-import/common';
import { loadWorkerConfig, startWorker } from './index.ts';

const log = createLogger('worker');
try {
  const config = loadWorkerConfig();
  log.level = config.LOG_LEVEL;
  const running = await startWorker(config, { log });
  onShutdown(log, () => running.close());
} catch (err) {
  if (err instanceof ConfigError) log.fatal(err.message);
  else log.fatal({ err }, 'worker failed to start');
  process.exit(1);
}
