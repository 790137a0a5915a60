/** Object routes over the storage drivers: read, head, delete (catalogued keys only), read URLs and health. */
import { Readable } from 'node:stream';
import {
  AppError,
  badRequest,
  bearerToken,
  createServiceApp,
  createServiceMetrics,
  Destination,
  errorBody,
  health,
  mountMetrics,
  notFound,
  safeEqual,
  type Logger,
} from '@drive-import/common';
import {
  assertKeyInPrefix,
  assertSafeKey,
  type ByteRange,
  contentRange,
  InvalidKeyError,
  KeyOutsidePrefixError,
  MAX_URL_TTL_SECONDS,
  normalizeKeyPrefix,
  parseRangeHeader,
  resolveRange,
  StorageUsageError,
  urlSigningKey,
  verifyReadUrl,
  type ObjectInfo,
  type StorageDriver,
  type StorageProvider,
} from '@drive-import/storage';
import type { Context } from 'hono';
import { z } from 'zod';
import type { StoredObjectCatalog } from './catalog.ts';
import { createStoreHealth, type StoreHealth, type StoreHealthOptions } from './store-health.ts';

export interface StorageAppDeps {
  log: Logger;
  /** The store used when a request names none (STORAGE_PROVIDER). */
  defaultProvider: StorageProvider;
  /** Every configured store; `?provider=` picks among them. */
  drivers: Partial<Record<StorageProvider, StorageDriver>>;
  /** The catalog (the metadata-service's stored_objects): DELETE removes only keys it knows. */
  catalog: StoredObjectCatalog;
  /**
   * The default store's health probe, on a timer (see store-health.ts). Pass one to own its
   * lifecycle (startStorageService does); otherwise one is made here with `healthOptions`.
   */
  storeHealth?: StoreHealth;
  healthOptions?: StoreHealthOptions;
  /** STORAGE_KEY_PREFIX: a key outside it is refused (403) before any store or the catalog is asked. */
  keyPrefix?: string;
  /**
   * INTERNAL_TOKEN: every route but GET /health needs `Authorization: Bearer <it>`; GET/HEAD
   * /objects/* also take a signed local read URL (`?expires=&signature=`, see @drive-import/storage signing).
   */
  internalToken?: string;
}

const TtlQuery = z.coerce.number().int().min(1).max(MAX_URL_TTL_SECONDS);

/** Raster images a browser may show inline; anything else (SVG, HTML, PDF, ...) is a download. */
const INLINE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/heic', 'image/heif', 'image/avif', 'image/bmp', 'image/tiff']);
/** A media type as RFC 9110 spells one (`type/subtype` tokens, optional parameters). */
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"[^"\\\r\n]*"))*$/;
/** What every content route answers with, errors included: no sniffing, no scripts, no same-origin powers. */
const CONTENT_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
} as const;

/** The key is everything after the route prefix, percent-decoded once, then checked. */
function keyFrom(url: string, prefix: string, keyPrefix: string | null): string {
  const path = new URL(url).pathname;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw badRequest('object key is not valid percent-encoding', 'invalid_key');
  }
  try {
    assertSafeKey(key);
    if (keyPrefix !== null) assertKeyInPrefix(key, keyPrefix);
  } catch (err) {
    throw storeKeyError(err);
  }
  return key;
}

/** A driver's key refusal as the API's answer: 403 outside the prefix, 400 otherwise; anything else unchanged. */
function storeKeyError(err: unknown): unknown {
  if (err instanceof KeyOutsidePrefixError) return new AppError(403, 'key_outside_prefix', err.message);
  if (err instanceof InvalidKeyError) return badRequest(err.message, 'invalid_key');
  return err;
}

async function store<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storeKeyError(err);
  }
}

/** RFC 6266 / 5987: an ASCII fallback name and the exact UTF-8 one. */
export function contentDisposition(kind: 'inline' | 'attachment', key: string): string {
  if (kind === 'inline') return 'inline';
  const name = key.slice(key.lastIndexOf('/') + 1) || 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function objectHeaders(info: ObjectInfo): Record<string, string> {
  const stored = info.contentType?.trim() ?? '';
  const type = MEDIA_TYPE.test(stored) ? stored : 'application/octet-stream';
  const essence = type.split(';')[0]!.trim().toLowerCase();
  const inline = INLINE_TYPES.has(essence);
  const headers: Record<string, string> = {
    // Stored bytes are whatever Drive had: only raster images show inline, never anything runnable.
    'content-type': inline ? essence : type,
    'content-length': String(info.size),
    'accept-ranges': 'bytes',
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', info.key),
    ...CONTENT_SECURITY_HEADERS,
  };
  if (info.etag) headers.etag = `"${info.etag}"`;
  if (info.md5) headers['x-content-md5'] = info.md5;
  if (info.lastModified) headers['last-modified'] = info.lastModified.toUTCString();
  return headers;
}

const isRead = (c: Context) => c.req.method === 'GET' || c.req.method === 'HEAD';

export function createStorageApp(deps: StorageAppDeps) {
  // The internal token is checked below, where a signed read URL is the one other way in.
  const app = createServiceApp(deps.log);
  const keyPrefix = deps.keyPrefix === undefined ? null : normalizeKeyPrefix(deps.keyPrefix);

  const { internalToken } = deps;
  if (internalToken) {
    const signingKey = urlSigningKey(internalToken);
    app.use(async (c, next) => {
      if (c.req.path === '/health' && isRead(c)) return next();
      const header = c.req.header('authorization');
      const token = bearerToken(header);
      if (token !== null && safeEqual(token, internalToken)) return next();
      const expires = c.req.query('expires');
      const signature = c.req.query('signature');
      if (header === undefined && isRead(c) && c.req.path.startsWith('/objects/') && (expires !== undefined || signature !== undefined)) {
        const key = keyFrom(c.req.url, '/objects/', keyPrefix);
        const verdict = verifyReadUrl(signingKey, key, expires, signature);
        if (verdict === 'expired') return c.json(errorBody('url_expired', 'this read URL has expired: ask for a new one'), 403, CONTENT_SECURITY_HEADERS);
        if (verdict !== 'ok') return c.json(errorBody('invalid_signature', 'the read URL signature is not valid for this key'), 403, CONTENT_SECURITY_HEADERS);
        // Signed URLs are local read URLs: they read the local store and nothing else.
        const provider = c.req.query('provider');
        if (provider !== undefined && provider !== 'local') return c.json(errorBody('invalid_signature', 'a signed read URL reads the local store only'), 403, CONTENT_SECURITY_HEADERS);
        return next();
      }
      return c.json(errorBody('unauthorized', 'this internal service needs Authorization: Bearer <INTERNAL_TOKEN>'), 401);
    });
  }
  mountMetrics(app, createServiceMetrics('storage-service'));

  const driverFor = (requested: string | undefined): { provider: StorageProvider; driver: StorageDriver } => {
    const parsed = Destination.safeParse(requested ?? deps.defaultProvider);
    if (!parsed.success) throw badRequest(`provider must be one of ${Destination.options.join(', ')}`, 'invalid_provider');
    const driver = deps.drivers[parsed.data];
    if (!driver) throw new AppError(400, 'provider_not_configured', `storage provider ${parsed.data} is not configured on this deployment`);
    return { provider: parsed.data, driver };
  };

  // driver.check() writes and deletes a probe object: it runs on a timer, never because of a /health call.
  const defaultDriver = deps.drivers[deps.defaultProvider];
  const storeHealth =
    deps.storeHealth ??
    createStoreHealth(async () => {
      if (!defaultDriver) throw new Error(`default provider ${deps.defaultProvider} is not configured`);
      await defaultDriver.check();
    }, deps.healthOptions);
  app.get('/health', (c) =>
    health(c, 'storage-service', {
      [`store_${deps.defaultProvider}`]: async () => {
        const answer = await storeHealth.current();
        if (answer !== 'ok') throw new Error(answer);
      },
    }),
  );

  // Content routes: the safety headers go on every answer, errors included.
  app.use('/objects/*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(CONTENT_SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  // Hono answers HEAD with the GET route (body dropped), so one route serves both; HEAD never opens the body.
  app.get('/objects/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects/', keyPrefix);
    const { driver } = driverFor(c.req.query('provider'));
    if (c.req.method === 'HEAD') {
      const info = await store(() => driver.head(key));
      if (!info) throw notFound(`no object ${key}`, 'object_not_found');
      return c.body(null, 200, objectHeaders(info));
    }
    // One byte range (Range: bytes=a-b | a- | -n) -> 206, or 416 when none of it is in the object;
    // the range is resolved against the object's size (a HEAD first) and read from the store as such.
    const spec = parseRangeHeader(c.req.header('range'));
    let range: ByteRange | undefined;
    if (spec) {
      const info = await store(() => driver.head(key));
      if (!info) throw notFound(`no object ${key}`, 'object_not_found');
      const resolved = resolveRange(spec, info.size);
      if (!resolved) {
        return c.json(errorBody('range_not_satisfiable', `the object is ${info.size} bytes: no byte of the range is in it`), 416, {
          'content-range': contentRange(null, info.size),
          'accept-ranges': 'bytes',
        });
      }
      range = resolved;
    }
    const found = await store(() => driver.get(key, range));
    if (!found) throw notFound(`no object ${key}`, 'object_not_found');
    const body = Readable.toWeb(found.body) as ReadableStream<Uint8Array>;
    const headers = objectHeaders(found.info);
    if (!range) return c.body(body, 200, headers);
    headers['content-length'] = String(range.end - range.start + 1);
    headers['content-range'] = contentRange(range, found.info.size);
    return c.body(body, 206, headers);
  });

  app.delete('/objects/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects/', keyPrefix);
    const { provider, driver } = driverFor(c.req.query('provider'));
    // Only what the catalog knows as a stored object of this store is ever deleted.
    let known: Awaited<ReturnType<StoredObjectCatalog['find']>>;
    try {
      known = await deps.catalog.find(provider, key);
    } catch (err) {
      c.var.log.warn({ err: err instanceof Error ? err.message : String(err), key, provider }, 'catalog lookup failed; nothing deleted');
      throw new AppError(503, 'catalog_unavailable', `the catalog (metadata-service) could not say whether ${key} is a stored object; nothing was deleted`);
    }
    if (!known) throw notFound(`${key} is not a stored object of ${provider} in the catalog; nothing was deleted`, 'object_not_in_catalog');
    const deleted = await store(() => driver.delete(key));
    // Idempotent: deleting what is already gone is fine; `deleted` says whether anything was there.
    return c.json({ key, deleted });
  });

  app.get('/objects-url/*', async (c) => {
    const key = keyFrom(c.req.url, '/objects-url/', keyPrefix);
    const { driver } = driverFor(c.req.query('provider'));
    const ttlRaw = c.req.query('ttl');
    const ttl = ttlRaw === undefined ? undefined : TtlQuery.safeParse(ttlRaw);
    if (ttl && !ttl.success) throw badRequest(`ttl must be 1..${MAX_URL_TTL_SECONDS} seconds`, 'invalid_request');
    try {
      return c.json({ url: await store(() => driver.readUrl(key, ttl?.data)) });
    } catch (err) {
      if (err instanceof StorageUsageError) throw new AppError(400, 'url_unavailable', err.message);
      throw err;
    }
  });

  return app;
}
