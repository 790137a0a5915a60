import { runService } from '@drive-import/common';
import { loadStorageServiceConfig, startStorageService } from './index.ts';

await runService('storage-service', loadStorageServiceConfig, (config, log) => startStorageService(config, { log }));
