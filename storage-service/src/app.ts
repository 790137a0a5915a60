/** Object routes over the storage drivers: read, head, delete, read URLs and health. */
import { Readable } from 'node:stream';
import { AppError, badRequest, createServiceApp, createServiceMetrics, Destination, healthRoute, type HealthOptions, mountMetrics, notFound, type Logger } from '@drive-import/common';
import { assertSafeKey, InvalidKeyError, MAX_URL_TTL_SECONDS, StorageUsageError, type ObjectInfo, type StorageDriver, type StorageProvider } from '@drive-import/storage';
import { z } from 'zod';

export interface StorageAppDeps {
  log: Logger;
  /** The store used when a request names none (STORAGE_PROVIDER). */
  defaultProvider: StorageProvider;
  /** Every configured store; `?provider=` picks among them. */
  drivers: Partial<Record<StorageProvider, StorageDriver>>;
  /** Caching of the store check (default: a write probe at most every 5 s, 2 s per check). */
  health?: HealthOptions;
  /** INTERNAL_TOKEN (see createServiceApp). */
  internalToken?: string;
}

const TtlQuery = z.coerce.number().int().min(1).max(MAX_URL_TTL_SECONDS);

/** The key is everything after the route prefix, percent-decoded once, then checked. */
function keyFrom(url: string, prefix: string): string {
  const path = new URL(url).pathname;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw badRequest('object key is not valid percent-encoding', 'invalid_key');
  }
  try {
    assertSafeKey(key);
  } catch (err) {
    if (err instanceof InvalidKeyError) throw badRequest(err.message, 'invalid_key');
    throw err;
  }
  return key;
}

function objectHeaders(info: ObjectInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': info.contentType ?? 'application/octet-stream',
    'content-length': String(info.size),
    // Stored bytes are whatever Drive had: never let a browser sniff them into something runnable.
    'x-content-type-options': 'nosniff',
  };
  if (info.etag) headers.etag = `"${info.etag}"`;
  if (info.md5) headers['x-content-md5'] = info.md5;
  if (info.lastModified) headers['last-modified'] = info.lastModified.toUTCString();
  return headers;
}

export function createStorageApp(deps: StorageAppDeps) {
  const app = createServiceApp(deps.log, { internalToken: deps.internalToken });
  mountMetrics(app, createServiceMetrics('storage-service'));

  const driverFor = (requested: string | undefined): StorageDriver => {
    const parsed = Destination.safeParse(requested ?? deps.defaultProvider);
    if (!parsed.success) throw badRequest(`provider must be one of ${Destination.options.join(', ')}`, 'invalid_provider');
    const driver = deps.drivers[parsed.data];
    if (!driver) throw new AppError(400, 'provider_not_configured', `storage provider ${parsed.data} is not configured on this deployment`);
    return driver;
  };

  // driver.check() writes and deletes a probe object: run it at most once per TTL (5 s by default),
  // shared by every caller in the meantime, never once per /health call.
  const defaultDriver = deps.drivers[deps.defaultProvider];
  app.get(
    '/health',
    healthRoute(
      'storage-service',
      {
        [`store_${deps.defaultProvider}`]: async () => {
          if (!defaultDriver) throw new Error(`default provider ${deps.defaultProvider} is not configured`);
          await defaultDriver.check();
        },
      },
      { ttlMs: 5000, ...deps.health },
    ),
  );

  // Hono answers HEAD with the GET route (body dropped), so one route serves both; HEAD never opens the body.
  app.get('/objects/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects/');
    const driver = driverFor(c.req.query('provider'));
    if (c.req.method === 'HEAD') {
      const info = await driver.head(key);
      if (!info) throw notFound(`no object ${key}`, 'object_not_found');
      return c.body(null, 200, objectHeaders(info));
    }
    const found = await driver.get(key);
    if (!found) throw notFound(`no object ${key}`, 'object_not_found');
    const body = Readable.toWeb(found.body) as ReadableStream<Uint8Array>;
    return c.body(body, 200, objectHeaders(found.info));
  });

  app.delete('/objects/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects/');
    const deleted = await driverFor(c.req.query('provider')).delete(key);
    // Idempotent: deleting what is already gone is fine; `deleted` says whether anything was there.
    return c.json({ key, deleted });
  });

  app.get('/objects-url/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects-url/');
    const driver = driverFor(c.req.query('provider'));
    const ttlRaw = c.req.query('ttl');
    const ttl = ttlRaw === undefined ? undefined : TtlQuery.safeParse(ttlRaw);
    if (ttl && !ttl.success) throw badRequest(`ttl must be 1..${MAX_URL_TTL_SECONDS} seconds`, 'invalid_request');
    try {
      return c.json({ url: await driver.readUrl(key, ttl?.data) });
    } catch (err) {
      if (err instanceof StorageUsageError) throw new AppError(400, 'url_unavailable', err.message);
      throw err;
    }
  });

  return app;
}
