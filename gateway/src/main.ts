import { ConfigError, createLogger, onShutdown } from '@drive-import/common';
import { loadGatewayConfig, startGateway } from './index.ts';

try {
  const config = loadGatewayConfig();
  const log = createLogger('gateway', config.LOG_LEVEL);
  const server = await startGateway(config, { log });
  onShutdown(log, () => server.close());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
