/** The stored_objects table: what each key of each destination holds now (see the Prisma schema). */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { chunks } from './chunks.ts';
import { badRequest, describeZodError, type Logger, notFound, StoredObjectQuery, type StoredObjectResponse } from '@drive-import/common';
import type { Db, Tx } from './db.ts';

export const keyHash = (storageKey: string) => createHash('sha256').update(storageKey).digest('hex');

export interface StoredState {
  storageKey: string;
  md5: string | null;
  size: bigint | null;
  jobId: string;
  driveId: string;
}

/** The keys now hold these files: replace each key's row (delete + insert works the same on both databases). */
export async function recordStored(tx: Tx, db: Db, destination: string, states: StoredState[], now: Date): Promise<void> {
  // Prisma's own limit per query is maxParams; a row of createMany takes 8.
  for (const part of chunks(states, Math.floor(db.maxParams / 8))) {
    const rows = part.map((s) => ({ destination, keyHash: keyHash(s.storageKey), storageKey: s.storageKey, md5: s.md5, size: s.size, jobId: s.jobId, driveId: s.driveId, updatedAt: now }));
    await tx.storedObject.deleteMany({ where: { destination, keyHash: { in: rows.map((r) => r.keyHash) } } });
    await tx.storedObject.createMany({ data: rows });
  }
}

/**
 * Once, after the upgrade that added stored_objects: fill it from the files already in the store,
 * so the first re-import after the upgrade still skips what is unchanged. Later rows of a key win
 * (ascending ids: a later job's file replaces an earlier one's). A no-op once the table has rows.
 */
export async function backfillStoredObjects(db: Db, log?: Logger): Promise<number> {
  if (await db.read.storedObject.findFirst({ select: { keyHash: true } })) return 0;
  let after = 0;
  let total = 0;
  for (;;) {
    const rows = await db.read.file.findMany({
      where: { id: { gt: after }, status: { in: ['stored', 'skipped'] }, storageProvider: { not: null } },
      select: { id: true, jobId: true, driveId: true, storageKey: true, storageProvider: true, md5: true, size: true, updatedAt: true },
      orderBy: { id: 'asc' },
      take: 5000,
    });
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const byDestination = new Map<string, Map<string, StoredState>>();
    for (const r of rows) {
      const keys = byDestination.get(r.storageProvider!) ?? new Map<string, StoredState>();
      byDestination.set(r.storageProvider!, keys);
      keys.set(r.storageKey, { storageKey: r.storageKey, md5: r.md5, size: r.size, jobId: r.jobId, driveId: r.driveId });
    }
    await db.transaction(async (tx) => {
      for (const [destination, keys] of byDestination) await recordStored(tx, db, destination, [...keys.values()], rows[rows.length - 1]!.updatedAt);
    });
    total += rows.length;
  }
  if (total > 0) log?.info({ files: total }, 'stored_objects filled from the files already in the store');
  return total;
}

/** What the catalog says `key` of `destination` holds now, or null when it knows no such object. */
export async function findStoredObject(db: Db, destination: StoredObjectResponse['destination'], key: string): Promise<StoredObjectResponse | null> {
  const row = await db.read.storedObject.findUnique({ where: { destination_keyHash: { destination, keyHash: keyHash(key) } } });
  // The hash is the index; the key itself must match too.
  if (!row || row.storageKey !== key) return findThumbnail(db, destination, key);
  return {
    destination,
    key: row.storageKey,
    md5: row.md5,
    size: row.size === null ? null : Number(row.size),
    job_id: row.jobId,
    drive_id: row.driveId,
  };
}

/** `<p>/thumbs/<rest>.webp` -> the keys whose thumbnail it could be, `<p>/<rest>` (one per `thumbs` segment). */
export function thumbnailOriginals(key: string): string[] {
  if (!key.endsWith('.webp')) return [];
  const segments = key.slice(0, -'.webp'.length).split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length - 1; i++) if (segments[i] === 'thumbs') out.push([...segments.slice(0, i), ...segments.slice(i + 1)].join('/'));
  return out;
}

/**
 * A thumbnail is a stored object too (so a delete of its image may remove it): the key is known when
 * the file now held by its original's key has it as thumbnail_key. Two unique lookups, no extra index.
 */
async function findThumbnail(db: Db, destination: StoredObjectResponse['destination'], key: string): Promise<StoredObjectResponse | null> {
  for (const original of thumbnailOriginals(key)) {
    const row = await db.read.storedObject.findUnique({ where: { destination_keyHash: { destination, keyHash: keyHash(original) } } });
    if (!row || row.storageKey !== original) continue;
    const file = await db.read.file.findUnique({ where: { jobId_driveId: { jobId: row.jobId, driveId: row.driveId } }, select: { thumbnailKey: true } });
    if (file?.thumbnailKey === key) return { destination, key, md5: null, size: null, job_id: row.jobId, drive_id: row.driveId };
  }
  return null;
}

/** GET /stored-objects?destination=&key= (StoredObjectQuery) -> 200 StoredObjectResponse, or 404 stored_object_not_found. */
export function storedObjectRoute(db: Db) {
  return async (c: Context) => {
    const query = StoredObjectQuery.safeParse(c.req.query());
    if (!query.success) throw badRequest(describeZodError(query.error));
    const found = await findStoredObject(db, query.data.destination, query.data.key);
    if (!found) throw notFound(`the catalog has no stored object ${JSON.stringify(query.data.key)} in ${query.data.destination}`, 'stored_object_not_found');
    return c.json(found satisfies StoredObjectResponse);
  };
}
