import { runService } from '@drive-import/common';
import { loadImportConfig, startImportService } from './index.ts';

// close() stops the listing worker first (active listings finish or are released), then the HTTP server.
await runService('import-service', loadImportConfig, (config, log) => startImportService(config, { log }));
