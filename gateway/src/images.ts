/**
 * The public image routes. The metadata-service owns the catalog (rows, counters, stats); the
 * storage-service owns the objects. A delete removes the object FIRST (the storage-service deletes
 * only keys its catalog knows, so the catalog row must still be there), then the row.
 */
import { Readable } from 'node:stream';
import {
  AppError,
  badRequest,
  BulkDeleteRequest,
  type BulkDeleteResponse,
  ImageDetailResponse,
  type ImageDeleteResult,
  ImageId,
  ImageListQuery,
  ImageListResponse,
  ImageLookupResponse,
  ImageRecord,
  ImageRemoveResponse,
  ImageStreamQuery,
  type ServiceClient,
  StatsResponse,
  validate,
} from '@drive-import/common';
import type { Context, Hono } from 'hono';
import { type GatewayEnv, scope } from './auth.ts';

export interface ImageRouteDeps {
  metadataService: ServiceClient;
  storageService: ServiceClient;
}


/** A key as a URL path: each segment percent-encoded (the storage-service decodes the path once). */
export const keyPath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

function imageIdParam(c: Context): string {
  const parsed = ImageId.safeParse(c.req.param('id'));
  if (!parsed.success) throw badRequest('id must be an image id (a positive integer) as listed by GET /api/images', 'invalid_image_id');
  return parsed.data;
}

/** Objects deleted at once per bulk chunk. */
const DELETE_CONCURRENCY = 8;
/** Images per chunk of a bulk delete by job: read, delete their objects, remove their rows, next. */
const BULK_CHUNK = 500;
/** Results a bulk delete by job echoes (its failures only). */
const MAX_REPORTED = 1000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export function mountImageRoutes(app: Hono<GatewayEnv>, { metadataService, storageService }: ImageRouteDeps): void {
  const meta = (c: Context<GatewayEnv>) => ({ requestId: c.get('requestId'), headers: scope(c.get('caller')) });

  /** The object of each image deleted (or already unknown to the catalog), then its row removed. */
  async function deleteImages(c: Context<GatewayEnv>, images: ImageRecord[]): Promise<ImageDeleteResult[]> {
    const objectResults = await mapLimit(images, DELETE_CONCURRENCY, async (img): Promise<ImageDeleteResult> => {
      const deleteObject = async (key: string) => {
        try {
          await storageService.call('DELETE', `/objects/${keyPath(key)}`, { query: { provider: img.destination }, requestId: c.get('requestId') });
        } catch (err) {
          // The catalog no longer knows the key: an earlier delete (of this or another row of the key) removed the object.
          if (!(err instanceof AppError && err.code === 'object_not_in_catalog')) throw err;
        }
      };
      try {
        await deleteObject(img.storage_key);
        // The thumbnail after the original (both while the row is there: the catalog knows them through it).
        if (img.thumbnail_key) await deleteObject(img.thumbnail_key);
        return { id: img.id, result: 'deleted', error: null };
      } catch (err) {
        return { id: img.id, result: 'store_error', error: errorText(err) };
      }
    });
    const gone = objectResults.filter((r) => r.result === 'deleted').map((r) => r.id);
    if (gone.length) {
      const removed = await metadataService.call('POST', '/images/remove', { ...meta(c), body: { ids: gone }, schema: ImageRemoveResponse });
      const notFound = new Set(removed.not_found);
      for (const r of objectResults) if (notFound.has(r.id)) r.result = 'not_found';
    }
    return objectResults;
  }

  app.get('/api/images', validate('query', ImageListQuery), async (c) => {
    const body = await metadataService.raw('GET', '/images', { ...meta(c), query: c.req.valid('query') });
    return c.body(body, 200, { 'content-type': 'application/json' });
  });

  // The metadata-service's stream passed on as it comes: never buffered here.
  app.get('/api/images/all', validate('query', ImageStreamQuery), async (c) => {
    const ndjson = (c.req.header('accept') ?? '').includes('application/x-ndjson');
    const accept = ndjson ? 'application/x-ndjson' : 'application/json';
    const res = await metadataService.stream('GET', '/images/all', { ...meta(c), query: c.req.valid('query'), headers: { ...scope(c.get('caller')), accept } });
    return c.body(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, 200, { 'content-type': accept, 'cache-control': 'no-store' });
  });

  app.get('/api/images/:id', async (c) => {
    const image = await metadataService.call('GET', `/images/${imageIdParam(c)}`, { ...meta(c), schema: ImageRecord });
    let readUrl: string | null = null;
    let readUrlError: string | null = null;
    try {
      const answer = (await storageService.call('GET', `/objects-url/${keyPath(image.storage_key)}`, { query: { provider: image.destination }, requestId: c.get('requestId') })) as { url: string };
      readUrl = answer.url;
    } catch (err) {
      readUrlError = errorText(err);
    }
    return c.json(ImageDetailResponse.parse({ ...image, read_url: readUrl, read_url_error: readUrlError }));
  });

  /**
   * An object of the image's store streamed through, with one `Range` passed down to the store
   * (206 with Content-Range, 416 when none of it is in the object; Accept-Ranges: bytes).
   */
  async function streamObject(c: Context<GatewayEnv>, image: ImageRecord, key: string, headers: Record<string, string>, passed: readonly string[]) {
    const range = c.req.header('range');
    const res = await storageService.stream('GET', `/objects/${keyPath(key)}`, {
      query: { provider: image.destination },
      requestId: c.get('requestId'),
      headers: { accept: '*/*', ...(range ? { range } : {}) },
      passStatuses: [416],
    });
    for (const name of [...passed, 'content-range', 'accept-ranges']) {
      const value = res.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (res.statusCode === 416) headers['content-type'] = 'application/json';
    const status = res.statusCode === 206 || res.statusCode === 416 ? res.statusCode : 200;
    return c.body(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, status, headers);
  }

  app.get('/api/images/:id/content', async (c) => {
    const image = await metadataService.call('GET', `/images/${imageIdParam(c)}`, { ...meta(c), schema: ImageRecord });
    const passed = ['content-type', 'content-length', 'content-disposition', 'etag', 'last-modified', 'x-content-md5', 'x-content-type-options', 'content-security-policy'];
    return streamObject(c, image, image.storage_key, {}, passed);
  });

  // The WebP thumbnail (320 px), streamed from the store like the content; 404 when the worker made none.
  app.get('/api/images/:id/thumbnail', async (c) => {
    const image = await metadataService.call('GET', `/images/${imageIdParam(c)}`, { ...meta(c), schema: ImageRecord });
    if (!image.thumbnail_key) throw new AppError(404, 'thumbnail_not_found', `Image ${image.id} has no thumbnail`);
    const headers: Record<string, string> = { 'content-type': 'image/webp', 'cache-control': 'private, max-age=3600' };
    return streamObject(c, image, image.thumbnail_key, headers, ['content-length', 'etag', 'last-modified', 'x-content-type-options', 'content-security-policy']);
  });

  // One entry per request, however many images it touched; the delete stands if the log write fails.
  const logActivity = (c: Context<GatewayEnv>, action: 'image.delete' | 'image.bulk_delete', jobId: string | null, detail: string) =>
    metadataService
      .call('POST', '/activity', { ...meta(c), body: { actor: c.get('caller').name, action, job_id: jobId, detail } })
      .catch((err: unknown) => c.var.log.warn({ err: (err as Error).message }, 'activity not recorded'));

  app.delete('/api/images/:id', async (c) => {
    const id = imageIdParam(c);
    const found = await metadataService.call('POST', '/images/lookup', { ...meta(c), body: { ids: [id] }, schema: ImageLookupResponse });
    if (!found.images.length) return c.json({ id, result: 'not_found', error: null } satisfies ImageDeleteResult, 404);
    const [result] = await deleteImages(c, found.images);
    if (result!.result === 'deleted') await logActivity(c, 'image.delete', found.images[0]!.job_id, `${found.images[0]!.storage_key}`);
    return c.json(result!, result!.result === 'deleted' ? 200 : result!.result === 'not_found' ? 404 : 502);
  });

  app.post('/api/images/bulk-delete', validate('json', BulkDeleteRequest), async (c) => {
    const body = c.req.valid('json');
    const out: BulkDeleteResponse = { deleted: 0, not_found: 0, store_error: 0, results: [] };
    const count = (results: ImageDeleteResult[], report: (r: ImageDeleteResult) => boolean) => {
      for (const r of results) {
        out[r.result]++;
        if (report(r) && out.results.length < MAX_REPORTED) out.results.push(r);
      }
    };
    if ('ids' in body) {
      const ids = [...new Set(body.ids)];
      const found = await metadataService.call('POST', '/images/lookup', { ...meta(c), body: { ids }, schema: ImageLookupResponse });
      const byId = new Map(found.images.map((i) => [i.id, i]));
      const results = await deleteImages(c, found.images);
      const resultOf = new Map(results.map((r) => [r.id, r]));
      count(
        ids.map((id) => (byId.has(id) ? resultOf.get(id)! : { id, result: 'not_found', error: null })),
        () => true,
      );
      await logActivity(c, 'image.bulk_delete', null, `${out.deleted} deleted, ${out.not_found} not found, ${out.store_error} store errors`);
      return c.json(out);
    }
    // The job must be the caller's (404 job_not_found otherwise, as for every job route).
    await metadataService.call('GET', `/jobs/${body.job_id}`, meta(c));
    // A job of any size: a keyset chunk at a time, never every id at once. Rows whose object could
    // not be deleted stay, and the cursor moves past them.
    let cursor: string | null = null;
    do {
      const page: ImageListResponse = await metadataService.call('GET', '/images', {
        ...meta(c),
        query: { job_id: body.job_id, per_page: BULK_CHUNK, ...(cursor ? { cursor } : {}) },
        schema: ImageListResponse,
      });
      if (page.images.length) count(await deleteImages(c, page.images), (r) => r.result !== 'deleted');
      cursor = page.next_cursor;
    } while (cursor);
    await logActivity(c, 'image.bulk_delete', body.job_id, `${out.deleted} deleted, ${out.not_found} not found, ${out.store_error} store errors`);
    return c.json(out);
  });

  app.get('/api/stats', async (c) => c.json(await metadataService.call('GET', '/stats', { ...meta(c), schema: StatsResponse })));
}
