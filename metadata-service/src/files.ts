/** The listing's file rows: upsert by (job, drive id), skip-unchanged, and filling copy batches. */
import { setImmediate } from 'node:timers/promises';
import { type AddFilesRequest, batchIdFor, conflict, type ListedFile } from '@drive-import/common';
import { recordActivity } from './activity.ts';
import { chunks } from './chunks.ts';
import { type Db, Prisma, type Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { isTerminal, loadJob } from './jobs.ts';
import { keyHash } from './stored-objects.ts';

/** Drive ids of `driveIds` this job already has. Raw SQL: Prisma's findMany costs ~10x more here. */
async function existingDriveIds(tx: Tx, db: Db, jobId: string, driveIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const ids of chunks(driveIds, listChunk(db))) {
    const rows = await tx.$queryRaw<Array<{ drive_id: string }>>`
      SELECT "drive_id" FROM "files" WHERE "job_id" = ${jobId} AND "drive_id" IN ${inList(db, ids)}`;
    for (const r of rows) found.add(r.drive_id);
  }
  return found;
}

/**
 * Files of `files` whose key already holds the same content: the key's LATEST stored state (its
 * stored_objects row for this destination) has the listed md5. One indexed lookup per key, in chunks.
 */
async function unchangedInStore(tx: Tx, db: Db, job: ImportJob, files: ListedFile[]): Promise<Set<string>> {
  const withMd5 = files.filter((f) => f.md5 !== null);
  const byHash = new Map(withMd5.map((f) => [keyHash(f.storage_key), f]));
  const unchanged = new Set<string>();
  for (const part of chunks([...byHash.keys()], listChunk(db))) {
    const rows = await tx.$queryRaw<Array<{ key_hash: string; md5: string | null }>>`
      SELECT "key_hash", "md5" FROM "stored_objects" WHERE "destination" = ${job.destination} AND "key_hash" IN ${inList(db, part)}`;
    for (const r of rows) {
      const f = byHash.get(r.key_hash);
      if (f && r.md5 === f.md5) unchanged.add(f.drive_id);
    }
  }
  return unchanged;
}

export interface AddedFiles {
  inserted: number;
  skipped_unchanged: number;
  /** Batches this call sealed (committed with it): the caller dispatches them to the copy queue. */
  sealed: string[];
  /** Set when this chunk would have passed a per-job cap: the job is failed with this message instead. */
  capExceeded?: string;
}

/** MAX_FILES_PER_JOB and MAX_BYTES_PER_JOB; unset = no cap. */
export interface JobLimits {
  maxFiles?: number;
  maxBytes?: number;
}

/** The message naming the owner's quota that `files` more files or `bytes` more bytes would pass, if any. */
async function quotaMessage(tx: Tx, owner: string | null, files: number, bytes: bigint): Promise<string | undefined> {
  const usage = await tokenUsage(tx, owner);
  if (!usage) return undefined;
  if (usage.maxFiles !== null && usage.files + files > usage.maxFiles) {
    return `Token ${owner}'s quota of ${usage.maxFiles} files would be passed (${usage.files} used); the import stopped there.`;
  }
  if (usage.maxBytes !== null && usage.bytes + bytes > usage.maxBytes) {
    return `Token ${owner}'s quota of ${usage.maxBytes} bytes would be passed (${usage.bytes} used); the import stopped there.`;
  }
  return undefined;
}

/**
 * What a token with a quota has used: the files (and their bytes) its jobs listed and did not fail
 * (deleted images leave the count). Null without a quota.
 */
export async function tokenUsage(tx: Tx | Db['read'], owner: string | null) {
  if (!owner) return null;
  const token = await tx.apiToken.findUnique({ where: { name: owner }, select: { maxFiles: true, maxBytes: true } });
  if (!token || (token.maxFiles === null && token.maxBytes === null)) return null;
  const sum = await tx.importJob.aggregate({ where: { owner }, _sum: { totalFiles: true, failedFiles: true, bytesTotal: true } });
  return {
    maxFiles: token.maxFiles,
    maxBytes: token.maxBytes,
    files: (sum._sum.totalFiles ?? 0) - (sum._sum.failedFiles ?? 0),
    bytes: sum._sum.bytesTotal ?? 0n,
  };
}

function capMessage(job: ImportJob, files: number, bytes: bigint, limits: JobLimits): string | undefined {
  if (limits.maxFiles !== undefined && job.totalFiles + files > limits.maxFiles) {
    return `The folder has more than MAX_FILES_PER_JOB (${limits.maxFiles}) images; the import stopped there.`;
  }
  if (limits.maxBytes !== undefined && job.bytesTotal + bytes > BigInt(limits.maxBytes)) {
    return `The folder holds more than MAX_BYTES_PER_JOB (${limits.maxBytes} bytes); the import stopped there.`;
  }
  return undefined;
}

/** DateTime as Prisma's SQLite adapter writes it (ISO text with +00:00), so both read back alike. */
const sqliteDate = (d: Date) => d.toISOString().replace('Z', '+00:00');

/** Bind parameters beside the IN list in each statement that uses inList (the job id, the destination). */
const IN_LIST_FIXED_PARAMS = 1;

/** Values per IN list: one JSON parameter on SQLite holds any number; SQL Server binds each, one per value. */
const listChunk = (db: Db) => (db.provider === 'sqlite' ? 5000 : db.maxRawParams - IN_LIST_FIXED_PARAMS);

/** `(…values)` for an IN: SQLite unpacks one JSON array parameter (cheap to bind), SQL Server gets a list. */
function inList(db: Db, values: string[]): Prisma.Sql {
  return db.provider === 'sqlite' ? Prisma.sql`(SELECT value FROM json_each(${JSON.stringify(values)}))` : Prisma.sql`(${Prisma.join(values)})`;
}

interface NewFile {
  file: ListedFile;
  status: 'pending' | 'skipped';
  batchId: string | null;
}

const FILE_COLUMN_NAMES = [
  'job_id', 'batch_id', 'drive_id', 'name', 'folder_path', 'mime_type', 'size', 'md5', 'modified_time',
  'width', 'height', 'taken_at', 'status', 'storage_provider', 'storage_key', 'camera_make', 'camera_model', 'created_at', 'updated_at',
] as const;
const FILE_COLUMNS = Prisma.raw(FILE_COLUMN_NAMES.map((c) => `"${c}"`).join(', '));
/** Bind parameters per row of the SQL Server multi-row INSERT: its VALUES tuple binds one per column. */
const PARAMS_PER_FILE = FILE_COLUMN_NAMES.length;
/** SQL Server takes at most 1,000 rows in one VALUES list. */
const MAX_VALUES_ROWS = 1000;

/**
 * Insert the chunk's rows. SQLite: ONE statement with one JSON parameter that SQLite unpacks itself
 * (json_each), since binding 17,000 parameters through Prisma held the event loop for ~100 ms per
 * 1,000 files. SQL Server: multi-row VALUES of at most 1,000 rows. createMany costs ~10x more.
 */
async function insertFiles(tx: Tx, db: Db, job: ImportJob, rows: NewFile[], now: Date): Promise<void> {
  if (db.provider === 'sqlite') {
    const json = JSON.stringify(
      rows.map(({ file: f, status, batchId }) => [
        batchId, f.drive_id, f.name, f.folder_path, f.mime_type, f.size, f.md5,
        f.modified_time === null ? null : sqliteDate(new Date(f.modified_time)),
        f.width, f.height, f.taken_at, status, status === 'skipped' ? job.destination : null, f.storage_key,
        f.camera_make ?? null, f.camera_model ?? null,
      ]),
    );
    await tx.$executeRaw`INSERT INTO "files" (${FILE_COLUMNS})
      SELECT ${job.id}, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
        value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15, ${now}, ${now}
      FROM json_each(${json})`;
    return;
  }
  for (const part of chunks(rows, Math.min(MAX_VALUES_ROWS, Math.floor(db.maxRawParams / PARAMS_PER_FILE)))) {
    const values = part.map(({ file: f, status, batchId }) => {
      const modified = f.modified_time === null ? null : new Date(f.modified_time);
      const size = f.size === null ? null : BigInt(f.size);
      const provider = status === 'skipped' ? job.destination : null;
      // In FILE_COLUMN_NAMES order: one value per column, so PARAMS_PER_FILE holds.
      const row = [job.id, batchId, f.drive_id, f.name, f.folder_path, f.mime_type, size, f.md5, modified, f.width, f.height, f.taken_at, status, provider, f.storage_key, f.camera_make ?? null, f.camera_model ?? null, now, now];
      return Prisma.sql`(${Prisma.join(row)})`;
    });
    await tx.$executeRaw`INSERT INTO "files" (${FILE_COLUMNS}) VALUES ${Prisma.join(values)}`;
  }
}

/**
 * Upsert a chunk of listed files. A file the job already has is left alone (a retried listing adds
 * nothing twice); the same drive id twice in one body counts once. Unchanged files become `skipped`
 * at once and never reach a batch. New pending files fill the open batch in order; each batch that
 * reaches batch_size is sealed in this transaction and its id returned for the dispatcher.
 */
export async function addFiles(db: Db, id: string, body: AddFilesRequest, limits: JobLimits = {}): Promise<AddedFiles> {
  return db.transaction(async (tx) => {
    const job = await loadJob(tx, id);
    if (isTerminal(job.status)) throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');

    // A drive id repeated in one body counts once: its first occurrence.
    const firstSeen = new Map<string, ListedFile>();
    for (const f of body.files) if (!firstSeen.has(f.drive_id)) firstSeen.set(f.drive_id, f);
    const existing = await existingDriveIds(tx, db, job.id, [...firstSeen.keys()]);
    // SQLite statements run synchronously and Prisma chains them as microtasks, so the transaction
    // would hold the event loop; a turn between its steps lets status reads (on the read connection,
    // which WAL never blocks) be answered in the middle of a listing.
    await setImmediate();
    const fresh = [...firstSeen.values()].filter((f) => !existing.has(f.drive_id));
    if (!fresh.length) return { inserted: 0, skipped_unchanged: 0, sealed: [] };
    if (job.listingComplete) throw conflict(`The listing of job ${id} is already complete`, 'listing_complete');

    const unchanged = await unchangedInStore(tx, db, job, fresh);
    await setImmediate();
    const now = new Date();
    let batchIndex = job.nextBatchIndex;
    let inOpenBatch = job.openBatchFiles;
    const batchFiles = new Map<number, number>(); // batch index -> files added now
    const sealed: number[] = [];
    let bytesTotal = 0n;
    let bytesSkipped = 0n;
    const rows: NewFile[] = fresh.map((file) => {
      const size = file.size === null ? 0n : BigInt(file.size);
      bytesTotal += size;
      if (unchanged.has(file.drive_id)) {
        bytesSkipped += size;
        return { file, status: 'skipped', batchId: null };
      }
      const batchId = batchIdFor(job.id, batchIndex);
      batchFiles.set(batchIndex, (batchFiles.get(batchIndex) ?? 0) + 1);
      inOpenBatch++;
      if (inOpenBatch === job.batchSize) {
        sealed.push(batchIndex);
        batchIndex++;
        inOpenBatch = 0;
      }
      return { file, status: 'pending', batchId };
    });

    const capExceeded = capMessage(job, rows.length, bytesTotal, limits) ?? (await quotaMessage(tx, job.owner, rows.length, bytesTotal));
    if (capExceeded) {
      // Committed, not thrown: the job ends failed, naming the cap; its queued batches then copy nothing more.
      await tx.importJob.update({ where: { id: job.id }, data: { status: 'failed', error: capExceeded, finishedAt: now, startedAt: job.startedAt ?? now } });
      await recordActivity(tx, { actor: 'system', action: 'import.finished', job_id: job.id, detail: `failed: ${capExceeded}` }, now);
      return { inserted: 0, skipped_unchanged: 0, sealed: [], capExceeded };
    }

    // Batch rows first (files reference them). The batch open before this call already has a row.
    const isSealed = new Set(sealed);
    const carried = job.openBatchFiles > 0 ? job.nextBatchIndex : null;
    const newBatches: Prisma.BatchCreateManyInput[] = [];
    for (const [index, count] of batchFiles) {
      const status = isSealed.has(index) ? 'sealed' : 'open';
      if (index === carried) {
        await tx.batch.update({
          where: { id: batchIdFor(job.id, index) },
          data: { fileCount: { increment: count }, status, ...(status === 'sealed' ? { sealedAt: now } : {}) },
        });
      } else {
        newBatches.push({ id: batchIdFor(job.id, index), jobId: job.id, index, status, fileCount: count, createdAt: now, updatedAt: now, sealedAt: status === 'sealed' ? now : null });
      }
    }
    if (newBatches.length) await tx.batch.createMany({ data: newBatches });
    await setImmediate();
    await insertFiles(tx, db, job, rows, now);

    const skipped = unchanged.size;
    await tx.importJob.update({
      where: { id: job.id },
      data: {
        totalFiles: { increment: rows.length },
        skippedFiles: { increment: skipped },
        bytesTotal: { increment: bytesTotal },
        bytesDone: { increment: bytesSkipped },
        nextBatchIndex: batchIndex,
        openBatchFiles: inOpenBatch,
      },
    });
    return {
      inserted: rows.length,
      skipped_unchanged: skipped,
      sealed: sealed.map((i) => batchIdFor(job.id, i)),
    };
  });
}
