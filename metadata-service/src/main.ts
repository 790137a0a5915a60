import { runService } from '@drive-import/common';
import { loadMetadataServiceConfig, startMetadataService } from './index.ts';

await runService('metadata-service', loadMetadataServiceConfig, (config, log) =>
  startMetadataService({ databaseUrl: config.DATABASE_URL, port: config.METADATA_SERVICE_PORT, host: config.METADATA_SERVICE_HOST, log }),
);
