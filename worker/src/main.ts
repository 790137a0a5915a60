import { runService } from '@drive-import/common';
import { loadWorkerConfig, startWorker } from './index.ts';

await runService('worker', loadWorkerConfig, (config, log) => startWorker(config, { log }));
