/** Copy batches: what the queue gets, listing completion, and the workers' results. */
import { AppError, type BatchResultsRequest, batchIdFor, type CopyBatch, type Destination, type FileResult, type JobSummary, type ListingCompleteResponse } from '@drive-import/common';
import { chunks } from './chunks.ts';
import { type Db, Prisma, type Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { isTerminal, jobNotFound, loadJob } from './jobs.ts';
import { pendingCount, toJobSummary } from './records.ts';

interface CopyFileRow {
  batch_id: string;
  drive_id: string;
  name: string;
  mime_type: string;
  size: bigint | number | null;
  md5: string | null;
  storage_key: string;
}

/** The queue payloads of the given batches: their files still pending, in listing order. */
export async function copyBatches(tx: Tx, db: Db, job: ImportJob, batchIds: string[]): Promise<CopyBatch[]> {
  const byBatch = new Map<string, CopyBatch>(
    batchIds.map((id) => [id, { job_id: job.id, batch_id: id, destination: job.destination as Destination, resource_key: job.resourceKey, files: [] }]),
  );
  // Raw SQL: a listing-complete may return 100,000 files, where Prisma's row mapping costs seconds.
  for (const ids of chunks(batchIds, db.maxRawParams - 10)) {
    const rows = await tx.$queryRaw<CopyFileRow[]>`
      SELECT "batch_id", "drive_id", "name", "mime_type", "size", "md5", "storage_key" FROM "files"
      WHERE "batch_id" IN (${Prisma.join(ids)}) AND "status" = 'pending' ORDER BY "id"`;
    for (const f of rows) {
      byBatch.get(f.batch_id)?.files.push({
        drive_id: f.drive_id,
        name: f.name,
        mime_type: f.mime_type,
        size: f.size === null ? null : Number(f.size),
        md5: f.md5,
        storage_key: f.storage_key,
      });
    }
  }
  // A batch whose every file is already terminal has nothing to copy (CopyBatch needs >= 1 file).
  return [...byBatch.values()].filter((b) => b.files.length > 0);
}

/** The job's final status once nothing is pending, or its current one. */
function settledStatus(job: Pick<ImportJob, 'status' | 'listingComplete' | 'totalFiles' | 'storedFiles' | 'skippedFiles' | 'failedFiles'>) {
  if (isTerminal(job.status) || !job.listingComplete || pendingCount(job) > 0) return null;
  return job.failedFiles > 0 ? 'completed_with_errors' : 'completed';
}

/** Sealed batches the listing reports on the copy queue: listing-complete need not return them again. */
export async function markQueued(tx: Tx, jobId: string, batchIds: string[]): Promise<void> {
  if (batchIds.length === 0) return;
  await tx.batch.updateMany({ where: { jobId, id: { in: batchIds }, status: 'sealed' }, data: { status: 'queued' } });
}

/**
 * Seal the open batch, mark the listing complete and return every batch not done (enqueueing them
 * again is harmless: the batch id is the BullMQ job id). Completes the job when nothing is pending.
 * Idempotent. A failed or cancelled job gets no batches back.
 */
export async function completeListing(db: Db, id: string, enqueuedBatchIds: string[] = []): Promise<ListingCompleteResponse> {
  return db.transaction(async (tx) => {
    let job = await loadJob(tx, id);
    if (isTerminal(job.status)) return { job: toJobSummary(job), unfinished_batches: [] };
    await markQueued(tx, job.id, enqueuedBatchIds);
    const now = new Date();
    if (job.openBatchFiles > 0) {
      await tx.batch.update({ where: { id: batchIdFor(job.id, job.nextBatchIndex) }, data: { status: 'sealed', sealedAt: now } });
    }
    const afterListing = { ...job, listingComplete: true };
    const finalStatus = settledStatus(afterListing);
    job = await tx.importJob.update({
      where: { id: job.id },
      data: {
        listingComplete: true,
        nextBatchIndex: job.openBatchFiles > 0 ? job.nextBatchIndex + 1 : job.nextBatchIndex,
        openBatchFiles: 0,
        status: finalStatus ?? 'processing',
        startedAt: job.startedAt ?? now,
        ...(finalStatus ? { finishedAt: now } : {}),
      },
    });
    const unfinished = await tx.batch.findMany({ where: { jobId: job.id, status: 'sealed' }, select: { id: true }, orderBy: { index: 'asc' } });
    return { job: toJobSummary(job), unfinished_batches: await copyBatches(tx, db, job, unfinished.map((b) => b.id)) };
  });
}

const BATCH_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-b(\d{1,9})$/;

export const batchNotFound = (id: string) => new AppError(404, 'batch_not_found', `No copy batch ${id}`);

interface Outcome {
  fileId: number;
  result: FileResult;
  bytes: bigint;
}

/**
 * One UPDATE per chunk with a CASE per column, rather than one statement per file: 100 files are
 * one round trip. `status = 'pending'` in the WHERE keeps the transition pending -> terminal only.
 */
async function writeOutcomes(tx: Tx, db: Db, destination: string, outcomes: Outcome[], now: Date): Promise<void> {
  const perRow = 14; // bind parameters each file adds below
  for (const part of chunks(outcomes, Math.max(1, Math.floor(db.maxRawParams / perRow)))) {
    const column = (value: (o: Outcome) => unknown) =>
      Prisma.sql`CASE "id" ${Prisma.join(
        part.map((o) => Prisma.sql`WHEN ${o.fileId} THEN ${value(o)}`),
        ' ',
      )} END`;
    const inStore = (o: Outcome) => o.result.status !== 'failed';
    await tx.$executeRaw`UPDATE "files" SET
      "status" = ${column((o) => o.result.status)},
      "attempts" = ${column((o) => o.result.attempts)},
      "error" = ${column((o) => (o.result.status === 'failed' ? (o.result.error ?? 'copy failed') : null))},
      "etag" = ${column((o) => o.result.etag)},
      "md5" = COALESCE(${column((o) => o.result.md5)}, "md5"),
      "bytes_copied" = ${column((o) => (o.result.status === 'stored' ? o.bytes : null))},
      "storage_provider" = ${column((o) => (inStore(o) ? destination : null))},
      "updated_at" = ${now}
      WHERE "status" = 'pending' AND "id" IN (${Prisma.join(part.map((o) => o.fileId))})`;
  }
}

/**
 * A worker's results for one batch, in ONE transaction: only files still pending in this batch
 * change (a redelivered result changes and counts nothing), the job's counters follow, the batch
 * is done once none of its files is pending, and the job completes when its listing is complete
 * and nothing is pending anywhere.
 */
export async function recordResults(db: Db, batchId: string, body: BatchResultsRequest): Promise<JobSummary> {
  const m = BATCH_ID.exec(batchId);
  if (!m) throw batchNotFound(batchId);
  if (m[1] !== body.job_id) throw new AppError(400, 'invalid_request', `Batch ${batchId} does not belong to job ${body.job_id}`);
  return db.transaction(async (tx) => {
    const job = await tx.importJob.findUnique({ where: { id: body.job_id } });
    if (!job) throw jobNotFound(body.job_id);
    const batch = await tx.batch.findUnique({ where: { id: batchId } });
    if (!batch) throw batchNotFound(batchId);

    const files = await tx.file.findMany({ where: { batchId, status: 'pending' }, select: { id: true, driveId: true, size: true } });
    const pending = new Map(files.map((f) => [f.driveId, f]));
    const outcomes: Outcome[] = [];
    for (const result of body.results) {
      const file = pending.get(result.drive_id);
      if (!file) continue; // not in this batch, already terminal, or repeated in this body
      pending.delete(result.drive_id);
      outcomes.push({ fileId: file.id, result, bytes: BigInt(result.bytes ?? (file.size === null ? 0 : Number(file.size))) });
    }
    if (!outcomes.length) return toJobSummary(job);

    const now = new Date();
    await writeOutcomes(tx, db, job.destination, outcomes, now);
    let stored = 0;
    let skipped = 0;
    let failed = 0;
    let bytes = 0n;
    for (const o of outcomes) {
      if (o.result.status === 'failed') failed++;
      else {
        if (o.result.status === 'stored') stored++;
        else skipped++;
        // Skipped files count as done bytes too (as skip-unchanged ones do), so bytes reach the total.
        bytes += o.bytes;
      }
    }

    const doneCount = batch.doneCount + outcomes.length;
    await tx.batch.update({
      where: { id: batchId },
      data: { doneCount, ...(doneCount >= batch.fileCount && batch.status !== 'open' ? { status: 'done', finishedAt: now } : {}) },
    });
    const counted = {
      ...job,
      storedFiles: job.storedFiles + stored,
      skippedFiles: job.skippedFiles + skipped,
      failedFiles: job.failedFiles + failed,
    };
    const finalStatus = settledStatus(counted);
    const updated = await tx.importJob.update({
      where: { id: job.id },
      data: {
        storedFiles: counted.storedFiles,
        skippedFiles: counted.skippedFiles,
        failedFiles: counted.failedFiles,
        bytesDone: { increment: bytes },
        ...(finalStatus ? { status: finalStatus, finishedAt: now } : {}),
      },
    });
    return toJobSummary(updated);
  });
}
