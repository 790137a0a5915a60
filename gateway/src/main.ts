import { runService } from '@drive-import/common';
import { loadGatewayConfig, startGateway } from './index.ts';

await runService('gateway', loadGatewayConfig, (config, log) => startGateway(config, { log }));
