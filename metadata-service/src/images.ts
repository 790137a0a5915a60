/**
 * The image catalog: the files in the store (status stored or skipped), across jobs. An image's id
 * is the files row id (a decimal string). Paging is keyset on that id; usage figures come from the
 * jobs' counters (kept as files change), never from a scan of the files.
 *
 * Query shape: the (job_id, status) index holds ids in order per status, so a page reads each of the
 * two in-store statuses in id order (index-ordered, LIMIT n+1 each) and merges them: no sort of a
 * million-row job per page. Without job_id the primary key is walked in id order.
 */
import {
  badRequest,
  type Destination,
  ImageIdsRequest,
  type ImageListQuery,
  ImageListQuery as ImageListQuerySchema,
  type ImageListResponse,
  type ImageLookupResponse,
  type ImageRecord,
  type ImageRemoveResponse,
  type ImageStreamQuery,
  ImageStreamQuery as ImageStreamQuerySchema,
  MAX_IMAGE_COUNT,
  MAX_IMAGE_OFFSET,
  notFound,
  type StatsResponse,
  validate,
} from '@drive-import/common';
import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import { chunks } from './chunks.ts';
import type { Db, Prisma } from './db.ts';
import { keyHash } from './stored-objects.ts';

/** The statuses of a file that is in the store. */
const IN_STORE = ['stored', 'skipped'] as const;

const IMAGE_SELECT = {
  id: true,
  jobId: true,
  driveId: true,
  name: true,
  folderPath: true,
  mimeType: true,
  size: true,
  md5: true,
  width: true,
  height: true,
  takenAt: true,
  storageProvider: true,
  storageKey: true,
  thumbnailKey: true,
  cameraMake: true,
  cameraModel: true,
  createdAt: true,
} as const satisfies Prisma.FileSelect;

type ImageRow = Prisma.FileGetPayload<{ select: typeof IMAGE_SELECT }>;

export const imageContentPath = (id: string | number) => `/api/images/${id}/content`;
export const imageThumbnailPath = (id: string | number) => `/api/images/${id}/thumbnail`;

export function toImageRecord(r: ImageRow): ImageRecord {
  return {
    id: String(r.id),
    job_id: r.jobId,
    drive_id: r.driveId,
    name: r.name,
    folder_path: r.folderPath,
    mime_type: r.mimeType,
    size: r.size === null ? null : Number(r.size),
    md5: r.md5,
    width: r.width,
    height: r.height,
    taken_at: r.takenAt,
    camera_make: r.cameraMake,
    camera_model: r.cameraModel,
    destination: r.storageProvider as Destination,
    storage_key: r.storageKey,
    created_at: r.createdAt.toISOString(),
    thumbnail_key: r.thumbnailKey,
    thumbnail_url: r.thumbnailKey === null ? null : imageThumbnailPath(r.id),
    url: imageContentPath(r.id),
  };
}

export const imageNotFound = (id: string) => notFound(`No image ${id}`, 'image_not_found');

type Filter = ImageStreamQuery;

/** The filter's conditions but the status (added per status by the page readers). */
function whereOf(q: Filter, owner: string | undefined): Prisma.FileWhereInput {
  const and: Prisma.FileWhereInput[] = [];
  if (q.job_id) and.push({ jobId: q.job_id.toLowerCase() });
  if (owner !== undefined) and.push({ job: { owner } });
  const folder = q.folder?.replace(/\/+$/, '');
  if (folder) and.push({ OR: [{ folderPath: folder }, { folderPath: { startsWith: `${folder}/` } }] });
  if (q.mime) and.push(q.mime.endsWith('/*') ? { mimeType: { startsWith: q.mime.slice(0, -1) } } : { mimeType: q.mime });
  const camera = (text: string): Prisma.FileWhereInput[] => [{ cameraMake: { contains: text } }, { cameraModel: { contains: text } }];
  if (q.q) and.push({ OR: [{ name: { contains: q.q } }, ...camera(q.q)] });
  if (q.camera) and.push({ OR: camera(q.camera) });
  return { AND: and };
}

/** Filters that the jobs' counters cannot answer a total for. */
const narrowsFiles = (q: Filter) => Boolean(q.folder?.replace(/\/+$/, '') || q.mime || q.q || q.camera);

/**
 * Up to `take` images after `after` (exclusive) in id order: each in-store status read in index
 * order (take each), merged. `desc`: newest first, `after` is then an upper bound.
 */
async function keysetPage(db: Db, where: Prisma.FileWhereInput, after: number | undefined, desc: boolean, take: number): Promise<ImageRow[]> {
  const bound = after === undefined ? {} : { id: desc ? { lt: after } : { gt: after } };
  const parts = await Promise.all(
    IN_STORE.map((status) =>
      db.read.file.findMany({ where: { AND: [where, { status }, bound] }, select: IMAGE_SELECT, orderBy: { id: desc ? 'desc' : 'asc' }, take }),
    ),
  );
  const merged = parts.flat().sort((a, b) => (desc ? b.id - a.id : a.id - b.id));
  return merged.slice(0, take);
}

/** Ids only, for an OFFSET page: the first `take` ids (bounded by MAX_IMAGE_OFFSET + per_page + 1). */
async function firstIds(db: Db, where: Prisma.FileWhereInput, desc: boolean, take: number): Promise<number[]> {
  const parts = await Promise.all(
    IN_STORE.map((status) => db.read.file.findMany({ where: { AND: [where, { status }] }, select: { id: true }, orderBy: { id: desc ? 'desc' : 'asc' }, take })),
  );
  return parts
    .flat()
    .map((r) => r.id)
    .sort((a, b) => (desc ? b - a : a - b))
    .slice(0, take);
}

/** A few seconds' memory of filtered counts, so a paging client does not count again per page. */
const COUNT_TTL_MS = 5_000;
const COUNT_CACHE_MAX = 200;

function createCountCache() {
  const entries = new Map<string, { at: number; value: number }>();
  return async (key: string, count: () => Promise<number>): Promise<number> => {
    const hit = entries.get(key);
    if (hit && Date.now() - hit.at < COUNT_TTL_MS) return hit.value;
    const value = await count();
    if (entries.size >= COUNT_CACHE_MAX) entries.delete(entries.keys().next().value as string);
    entries.set(key, { at: Date.now(), value });
    return value;
  };
}

type CountCache = ReturnType<typeof createCountCache>;

/**
 * The filter's total. job_id / owner only: the jobs' counters (stored + skipped: exact, one row per
 * job). folder / mime / q: a count that stops at MAX_IMAGE_COUNT + 1 rows (then inexact), cached briefly.
 */
async function totalOf(db: Db, q: Filter, owner: string | undefined, cache: CountCache): Promise<{ total: number; exact: boolean }> {
  if (!narrowsFiles(q)) {
    const sum = await db.read.importJob.aggregate({
      where: { ...(q.job_id ? { id: q.job_id.toLowerCase() } : {}), ...(owner !== undefined ? { owner } : {}) },
      _sum: { storedFiles: true, skippedFiles: true },
    });
    return { total: (sum._sum.storedFiles ?? 0) + (sum._sum.skippedFiles ?? 0), exact: true };
  }
  const where = whereOf(q, owner);
  const key = JSON.stringify([q.job_id, q.folder, q.mime, q.q, q.camera, owner ?? null]);
  const n = await cache(key, async () => {
    const rows = await db.read.file.findMany({ where: { AND: [where, { status: { in: [...IN_STORE] } }] }, select: { id: true }, take: MAX_IMAGE_COUNT + 1 });
    return rows.length;
  });
  return n > MAX_IMAGE_COUNT ? { total: MAX_IMAGE_COUNT, exact: false } : { total: n, exact: true };
}

export async function listImages(db: Db, q: ImageListQuery, owner: string | undefined, cache: CountCache = createCountCache()): Promise<ImageListResponse> {
  const where = whereOf(q, owner);
  const desc = q.sort === '-created_at';
  let rows: ImageRow[];
  let page: number | null = null;
  if (q.cursor !== undefined) {
    rows = await keysetPage(db, where, Number(q.cursor), desc, q.per_page + 1);
  } else {
    page = q.page;
    const offset = (q.page - 1) * q.per_page;
    if (offset > MAX_IMAGE_OFFSET) {
      throw badRequest(
        `page ${q.page} skips more than ${MAX_IMAGE_OFFSET} images: page on with cursor (each answer's next_cursor) instead`,
        'page_too_deep',
      );
    }
    if (offset === 0) rows = await keysetPage(db, where, undefined, desc, q.per_page + 1);
    else {
      const ids = (await firstIds(db, where, desc, offset + q.per_page + 1)).slice(offset);
      rows = ids.length
        ? await db.read.file.findMany({ where: { id: { in: ids } }, select: IMAGE_SELECT, orderBy: { id: desc ? 'desc' : 'asc' } })
        : [];
    }
  }
  const more = rows.length > q.per_page;
  const shown = more ? rows.slice(0, q.per_page) : rows;
  const { total, exact } = await totalOf(db, q, owner, cache);
  return {
    images: shown.map(toImageRecord),
    page,
    per_page: q.per_page,
    total,
    total_exact: exact,
    next_cursor: more ? String(shown[shown.length - 1]!.id) : null,
  };
}

const parseId = (id: string) => (/^[1-9]\d{0,14}$/.test(id) ? Number(id) : null);

export async function getImage(db: Db, id: string, owner: string | undefined): Promise<ImageRecord> {
  const n = parseId(id);
  const row = n === null ? null : await db.read.file.findFirst({ where: { id: n, status: { in: [...IN_STORE] }, ...(owner !== undefined ? { job: { owner } } : {}) }, select: IMAGE_SELECT });
  if (!row) throw imageNotFound(id);
  return toImageRecord(row);
}

export async function lookupImages(db: Db, ids: string[], owner: string | undefined): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for (const part of chunks([...new Set(ids.map(Number))], Math.floor(db.maxParams / 2))) {
    const rows = await db.read.file.findMany({
      where: { id: { in: part }, status: { in: [...IN_STORE] }, ...(owner !== undefined ? { job: { owner } } : {}) },
      select: IMAGE_SELECT,
      orderBy: { id: 'asc' },
    });
    for (const row of rows) out.push(toImageRecord(row));
  }
  return out;
}

/** Rows per streamed page: one query pair and one write each. */
const STREAM_PAGE = 2_000;

/** Every matching image in id order, a keyset page at a time: memory stays one page whatever the total. */
export async function* allImages(db: Db, q: Filter, owner: string | undefined): AsyncGenerator<ImageRecord[]> {
  const where = whereOf(q, owner);
  let after: number | undefined;
  for (;;) {
    const rows = await keysetPage(db, where, after, false, STREAM_PAGE);
    if (rows.length) yield rows.map(toImageRecord);
    if (rows.length < STREAM_PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Remove image rows whose objects are already deleted, in one transaction per chunk: the file row,
 * its key's stored_objects row (so the next import of its folder copies it again), and the counters
 * it was part of (its job's total/stored|skipped/bytes, its batch's file/done counts, so pending and
 * "batch done" stay what they were). Idempotent: an id already gone is not_found.
 */
export async function removeImages(db: Db, ids: string[], owner: string | undefined): Promise<ImageRemoveResponse & { jobs: string[] }> {
  const removed: string[] = [];
  const jobs = new Set<string>();
  const wanted = [...new Set(ids.map(Number))];
  for (const part of chunks(wanted, 400)) {
    await db.transaction(async (tx) => {
      const rows = await tx.file.findMany({
        where: { id: { in: part }, status: { in: [...IN_STORE] }, ...(owner !== undefined ? { job: { owner } } : {}) },
        select: { id: true, jobId: true, batchId: true, status: true, size: true, bytesCopied: true, storageProvider: true, storageKey: true },
      });
      if (!rows.length) return;
      await tx.file.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
      const perJob = new Map<string, { total: number; stored: number; skipped: number; bytesTotal: bigint; bytesDone: bigint }>();
      const perBatch = new Map<string, number>();
      const perDestination = new Map<string, Set<string>>();
      for (const r of rows) {
        const j = perJob.get(r.jobId) ?? { total: 0, stored: 0, skipped: 0, bytesTotal: 0n, bytesDone: 0n };
        perJob.set(r.jobId, j);
        j.total++;
        const size = r.size ?? 0n;
        j.bytesTotal += size;
        // What recordResults / addFiles added to bytes_done for it.
        if (r.status === 'stored') {
          j.stored++;
          j.bytesDone += r.bytesCopied ?? size;
        } else {
          j.skipped++;
          j.bytesDone += size;
        }
        if (r.batchId) perBatch.set(r.batchId, (perBatch.get(r.batchId) ?? 0) + 1);
        if (r.storageProvider) {
          const keys = perDestination.get(r.storageProvider) ?? new Set<string>();
          perDestination.set(r.storageProvider, keys);
          keys.add(keyHash(r.storageKey));
        }
        removed.push(String(r.id));
        jobs.add(r.jobId);
      }
      for (const [jobId, j] of perJob) {
        await tx.importJob.update({
          where: { id: jobId },
          data: {
            totalFiles: { decrement: j.total },
            storedFiles: { decrement: j.stored },
            skippedFiles: { decrement: j.skipped },
            bytesTotal: { decrement: j.bytesTotal },
            bytesDone: { decrement: j.bytesDone },
          },
        });
      }
      for (const [batchId, n] of perBatch) await tx.batch.update({ where: { id: batchId }, data: { fileCount: { decrement: n }, doneCount: { decrement: n } } });
      // The object is gone: whichever file the key's row named, the key now holds nothing.
      for (const [destination, hashes] of perDestination) await tx.storedObject.deleteMany({ where: { destination, keyHash: { in: [...hashes] } } });
    });
  }
  const done = new Set(removed);
  return { removed, not_found: [...new Set(ids)].filter((id) => !done.has(String(Number(id)))), jobs: [...jobs] };
}

const DESTINATIONS = ['s3', 'azure', 'local'] as const;
const MB = 1024 * 1024;
/** Jobs listed in the stats, newest first. */
const STATS_JOBS = 100;

/**
 * Usage from the jobs' counters (one row per import, a small table): images = stored + skipped files,
 * bytes = bytes_done (bytes of those files). Per store = grouped by the job's destination; per day =
 * by the job's creation day (UTC). A key imported by two jobs counts once per job (rows, not objects).
 */
export async function stats(db: Db, owner: string | undefined): Promise<StatsResponse> {
  const jobs = await db.read.importJob.findMany({
    where: owner !== undefined ? { owner } : {},
    select: { id: true, destination: true, status: true, storedFiles: true, skippedFiles: true, failedFiles: true, bytesDone: true, createdAt: true },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  const stores = { s3: { files: 0, bytes: 0 }, azure: { files: 0, bytes: 0 }, local: { files: 0, bytes: 0 } };
  const days = new Map<string, { day: string; jobs: number; files: number; bytes: number }>();
  for (const j of jobs) {
    const files = j.storedFiles + j.skippedFiles;
    const bytes = Number(j.bytesDone);
    const store = DESTINATIONS.includes(j.destination as Destination) ? stores[j.destination as Destination] : null;
    if (store) {
      store.files += files;
      store.bytes += bytes;
    }
    const day = j.createdAt.toISOString().slice(0, 10);
    const d = days.get(day) ?? { day, jobs: 0, files: 0, bytes: 0 };
    days.set(day, d);
    d.jobs++;
    d.files += files;
    d.bytes += bytes;
  }
  const totalFiles = stores.s3.files + stores.azure.files + stores.local.files;
  const totalBytes = stores.s3.bytes + stores.azure.bytes + stores.local.bytes;
  return {
    total_images: totalFiles,
    total_size_bytes: totalBytes,
    total_size_mb: Math.round((totalBytes / MB) * 100) / 100,
    aws_images: stores.s3.files,
    azure_images: stores.azure.files,
    local_images: stores.local.files,
    stores,
    jobs: jobs.slice(0, STATS_JOBS).map((j) => ({
      job_id: j.id,
      destination: j.destination as Destination,
      status: j.status as StatsResponse['jobs'][number]['status'],
      files: j.storedFiles + j.skippedFiles,
      bytes: Number(j.bytesDone),
      failed: j.failedFiles,
      created_at: j.createdAt.toISOString(),
    })),
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
  };
}

export interface ImageRouteDeps {
  db: Db;
  /** The OWNER_HEADER's token name (undefined: all jobs). */
  ownerOf: (c: Context) => string | undefined;
  /** Called with the jobs whose counters changed (the status cache forgets them). */
  onJobsChanged?: (jobIds: string[]) => void;
}

const wantsNdjson = (c: Context) => (c.req.header('accept') ?? '').includes('application/x-ndjson');

/**
 * GET /images (ImageListQuery) -> ImageListResponse; GET /images/all (ImageStreamQuery) -> every
 * image, NDJSON (Accept: application/x-ndjson) or a JSON array, streamed page by page;
 * GET /images/:id -> ImageRecord; POST /images/lookup {ids} -> ImageLookupResponse;
 * POST /images/remove {ids} -> ImageRemoveResponse (the objects are deleted first, by the caller);
 * GET /stats -> StatsResponse. All scoped to the OWNER_HEADER's jobs when it is set.
 */
// biome-ignore lint/suspicious/noExplicitAny: mounted on the service app whatever its Env.
export function mountImageRoutes(app: Hono<any>, { db, ownerOf, onJobsChanged }: ImageRouteDeps): void {
  const counts = createCountCache();
  app.get('/images', validate('query', ImageListQuerySchema), async (c) => c.json(await listImages(db, c.req.valid('query'), ownerOf(c), counts)));
  app.get('/images/all', validate('query', ImageStreamQuerySchema), (c) => {
    const q = c.req.valid('query');
    const owner = ownerOf(c);
    const ndjson = wantsNdjson(c);
    c.header('content-type', ndjson ? 'application/x-ndjson' : 'application/json');
    c.header('cache-control', 'no-store');
    return stream(c, async (out) => {
      let first = true;
      if (!ndjson) await out.write('[');
      for await (const page of allImages(db, q, owner)) {
        if (out.aborted) return;
        const text = ndjson ? `${page.map((r) => JSON.stringify(r)).join('\n')}\n` : `${first ? '' : ','}${page.map((r) => JSON.stringify(r)).join(',')}`;
        first = false;
        // Resolves once the reader has taken it: the next page is read only then (backpressure).
        await out.write(text);
      }
      if (!ndjson) await out.write(']');
    });
  });
  app.get('/images/:id', async (c) => c.json(await getImage(db, c.req.param('id'), ownerOf(c))));
  app.post('/images/lookup', validate('json', ImageIdsRequest), async (c) =>
    c.json({ images: await lookupImages(db, c.req.valid('json').ids, ownerOf(c)) } satisfies ImageLookupResponse),
  );
  app.post('/images/remove', validate('json', ImageIdsRequest), async (c) => {
    const { removed, not_found, jobs } = await removeImages(db, c.req.valid('json').ids, ownerOf(c));
    onJobsChanged?.(jobs);
    return c.json({ removed, not_found } satisfies ImageRemoveResponse);
  });
  app.get('/stats', async (c) => c.json(await stats(db, ownerOf(c))));
}
