/** The listing's file rows: upsert by (job, drive id), skip-unchanged, and filling copy batches. */
import { type AddFilesRequest, type AddFilesResponse, batchIdFor, conflict, type ListedFile } from '@drive-import/common';
import { copyBatches, markQueued } from './batches.ts';
import { chunks } from './chunks.ts';
import { type Db, Prisma, type Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { isTerminal, loadJob } from './jobs.ts';

/** Drive ids of `driveIds` this job already has. Raw SQL: Prisma's findMany costs ~10x more here. */
async function existingDriveIds(tx: Tx, db: Db, jobId: string, driveIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const ids of chunks(driveIds, db.maxRawParams - 10)) {
    const rows = await tx.$queryRaw<Array<{ drive_id: string }>>`
      SELECT "drive_id" FROM "files" WHERE "job_id" = ${jobId} AND "drive_id" IN (${Prisma.join(ids)})`;
    for (const r of rows) found.add(r.drive_id);
  }
  return found;
}

/**
 * Files of `files` already in the store unchanged: an EARLIER job has a stored or skipped file
 * with the same destination, object key and md5. One statement per chunk, on the (provider, md5)
 * index; the keys of the few candidates are compared here.
 */
async function unchangedInStore(tx: Tx, db: Db, job: ImportJob, files: ListedFile[]): Promise<Set<string>> {
  const md5s = [...new Set(files.flatMap((f) => (f.md5 === null ? [] : [f.md5])))];
  const inStore = new Set<string>();
  for (const part of chunks(md5s, db.maxRawParams - 10)) {
    const rows = await tx.$queryRaw<Array<{ storage_key: string; md5: string }>>`
      SELECT DISTINCT f."storage_key", f."md5" FROM "files" f JOIN "import_jobs" j ON j."id" = f."job_id"
      WHERE f."storage_provider" = ${job.destination} AND f."md5" IN (${Prisma.join(part)})
        AND f."status" IN ('stored', 'skipped') AND f."job_id" <> ${job.id} AND j."created_at" < ${job.createdAt}`;
    for (const r of rows) inStore.add(`${r.md5}\u0000${r.storage_key}`);
  }
  return new Set(files.filter((f) => f.md5 !== null && inStore.has(`${f.md5}\u0000${f.storage_key}`)).map((f) => f.drive_id));
}

interface NewFile {
  file: ListedFile;
  status: 'pending' | 'skipped';
  batchId: string | null;
}

const FILE_COLUMNS = Prisma.raw(
  '"job_id", "batch_id", "drive_id", "name", "folder_path", "mime_type", "size", "md5", "modified_time", "width", "height", "taken_at", "status", "storage_provider", "storage_key", "created_at", "updated_at"',
);
const PARAMS_PER_FILE = 17;

/** Multi-row INSERTs (SQL Server takes at most 1,000 rows per VALUES). createMany costs ~10x more. */
async function insertFiles(tx: Tx, db: Db, job: ImportJob, rows: NewFile[], now: Date): Promise<void> {
  for (const part of chunks(rows, Math.min(1000, Math.floor(db.maxRawParams / PARAMS_PER_FILE)))) {
    const values = part.map(({ file: f, status, batchId }) => {
      const modified = f.modified_time === null ? null : new Date(f.modified_time);
      const size = f.size === null ? null : BigInt(f.size);
      const provider = status === 'skipped' ? job.destination : null;
      return Prisma.sql`(${job.id}, ${batchId}, ${f.drive_id}, ${f.name}, ${f.folder_path}, ${f.mime_type}, ${size}, ${f.md5}, ${modified}, ${f.width}, ${f.height}, ${f.taken_at}, ${status}, ${provider}, ${f.storage_key}, ${now}, ${now})`;
    });
    await tx.$executeRaw`INSERT INTO "files" (${FILE_COLUMNS}) VALUES ${Prisma.join(values)}`;
  }
}

/**
 * Upsert a chunk of listed files. A file the job already has is left alone (a retried listing adds
 * nothing twice); the same drive id twice in one body counts once. Unchanged files become `skipped`
 * at once and never reach a batch. New pending files fill the open batch in order; each batch that
 * reaches batch_size is sealed and returned for the queue.
 */
export async function addFiles(db: Db, id: string, body: AddFilesRequest): Promise<AddFilesResponse> {
  return db.transaction(async (tx) => {
    const job = await loadJob(tx, id);
    if (isTerminal(job.status)) throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');
    await markQueued(tx, job.id, body.enqueued_batch_ids);

    // A drive id repeated in one body counts once: its first occurrence.
    const firstSeen = new Map<string, ListedFile>();
    for (const f of body.files) if (!firstSeen.has(f.drive_id)) firstSeen.set(f.drive_id, f);
    const existing = await existingDriveIds(tx, db, job.id, [...firstSeen.keys()]);
    const fresh = [...firstSeen.values()].filter((f) => !existing.has(f.drive_id));
    if (!fresh.length) return { inserted: 0, skipped_unchanged: 0, sealed_batches: [] };
    if (job.listingComplete) throw conflict(`The listing of job ${id} is already complete`, 'listing_complete');

    const unchanged = await unchangedInStore(tx, db, job, fresh);
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
      sealed_batches: await copyBatches(tx, db, job, sealed.map((i) => batchIdFor(job.id, i))),
    };
  });
}
