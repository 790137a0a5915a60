import { createLogger, type Logger, serveApp } from '@drive-import/common';
import { createMetadataApp } from './app.ts';
import { openDb } from './db.ts';

export { createMetadataApp, type MetadataAppDeps } from './app.ts';
export { loadMetadataServiceConfig, metadataServiceEnv, type MetadataServiceConfig } from './config.ts';
export { type Db, openDb } from './db.ts';

export interface MetadataServiceOptions {
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  log?: Logger;
}

export interface RunningMetadataService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Open the database (applying pending migrations), then serve the API. close() stops both. */
export async function startMetadataService(options: MetadataServiceOptions): Promise<RunningMetadataService> {
  const log = options.log ?? createLogger('metadata-service');
  const db = await openDb(options.databaseUrl, log);
  try {
    const server = await serveApp(createMetadataApp({ db, log }), { port: options.port, hostname: options.host });
    log.info({ url: server.url, database: db.provider }, 'metadata-service listening');
    return {
      url: server.url,
      port: server.port,
      close: async () => {
        await server.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
