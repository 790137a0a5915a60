/** Copy batches: what a worker copies, listing completion, and the workers' results. */
import { AppError, clipText, scrubSecrets, type BatchResultsRequest, batchIdFor, type CopyBatch, type Destination, type FileResult, type JobSummary } from '@drive-import/common';
import { recordActivity } from './activity.ts';
import { chunks } from './chunks.ts';
import { type Db, Prisma, type Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { isTerminal, jobNotFound, loadJob } from './jobs.ts';
import { pendingCount, toJobSummary } from './records.ts';
import { recordStored } from './stored-objects.ts';

interface CopyFileRow {
  drive_id: string;
  name: string;
  mime_type: string;
  size: bigint | number | null;
  md5: string | null;
  storage_key: string;
  has_camera: number | bigint | boolean;
}

const BATCH_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-b(\d{1,9})$/;

export const batchNotFound = (id: string) => new AppError(404, 'batch_not_found', `No copy batch ${id}`);

/**
 * What a worker copies for a batch: its files still pending, in listing order. None once the batch
 * is done or its job has ended (a cancelled job's queued batches then finish without copying).
 */
export async function getBatch(db: Db, batchId: string): Promise<CopyBatch> {
  const batch = BATCH_ID.test(batchId) ? await db.read.batch.findUnique({ where: { id: batchId }, include: { job: true } }) : null;
  if (!batch) throw batchNotFound(batchId);
  const { job } = batch;
  const out: CopyBatch = { job_id: job.id, batch_id: batch.id, destination: job.destination as Destination, resource_key: job.resourceKey, files: [], thumbnails: job.thumbnails };
  if (isTerminal(job.status) || batch.status === 'done') return out;
  if (job.status === 'paused') return { ...out, paused: true };
  // Raw SQL: Prisma's row mapping costs several times more on this per-batch hot path.
  const rows = await db.read.$queryRaw<CopyFileRow[]>`
    SELECT "drive_id", "name", "mime_type", "size", "md5", "storage_key",
      CASE WHEN "camera_make" IS NULL AND "camera_model" IS NULL THEN 0 ELSE 1 END AS "has_camera" FROM "files"
    WHERE "batch_id" = ${batch.id} AND "status" = 'pending' ORDER BY "id"`;
  for (const f of rows) {
    out.files.push({ drive_id: f.drive_id, name: f.name, mime_type: f.mime_type, size: f.size === null ? null : Number(f.size), md5: f.md5, storage_key: f.storage_key, has_camera: Number(f.has_camera) === 1 });
  }
  return out;
}

/** The job's final status once nothing is pending, or its current one. */
function settledStatus(job: Pick<ImportJob, 'status' | 'listingComplete' | 'totalFiles' | 'storedFiles' | 'skippedFiles' | 'failedFiles'>) {
  if (isTerminal(job.status) || !job.listingComplete || pendingCount(job) > 0) return null;
  return job.failedFiles > 0 ? 'completed_with_errors' : 'completed';
}

/**
 * Seal the open batch and mark the listing complete; the job completes here when nothing is
 * pending. Returns the sealed batch's id for the dispatcher. Idempotent; a failed or cancelled job
 * stays as it is.
 */
export async function completeListing(db: Db, id: string): Promise<{ job: JobSummary; sealed: string[] }> {
  return db.transaction(async (tx) => {
    let job = await loadJob(tx, id);
    if (isTerminal(job.status) || job.listingComplete) return { job: toJobSummary(job), sealed: [] };
    const now = new Date();
    const sealed = job.openBatchFiles > 0 ? [batchIdFor(job.id, job.nextBatchIndex)] : [];
    for (const batchId of sealed) await tx.batch.update({ where: { id: batchId }, data: { status: 'sealed', sealedAt: now } });
    const finalStatus = settledStatus({ ...job, listingComplete: true });
    if (finalStatus) await recordActivity(tx, { actor: 'system', action: 'import.finished', job_id: job.id, detail: finalStatus }, now);
    job = await tx.importJob.update({
      where: { id: job.id },
      data: {
        listingComplete: true,
        nextBatchIndex: job.nextBatchIndex + sealed.length,
        openBatchFiles: 0,
        // A paused job stays paused when its listing completes.
        status: finalStatus ?? (job.status === 'paused' ? 'paused' : 'processing'),
        startedAt: job.startedAt ?? now,
        ...(finalStatus ? { finishedAt: now } : {}),
      },
    });
    return { job: toJobSummary(job), sealed };
  });
}

interface Outcome {
  fileId: number;
  storageKey: string;
  md5: string | null;
  result: FileResult;
  bytes: bigint;
}

/** Stored now, or found already stored (skipped): the object is in the store either way. */
const inStore = (o: Outcome) => o.result.status !== 'failed';

/** An outcome's new column values, in OUTCOME_COLUMNS order. */
const outcomeValues = (o: Outcome, destination: string) =>
  [
    o.result.status,
    o.result.attempts,
    o.result.status === 'failed' ? clipText(scrubSecrets(o.result.error ?? 'copy failed')) : null,
    o.result.etag,
    o.result.md5,
    o.result.status === 'stored' ? o.bytes : null,
    inStore(o) ? destination : null,
    inStore(o) ? (o.result.thumbnail_key ?? null) : null,
    inStore(o) ? (o.result.camera_make ?? null) : null,
    inStore(o) ? (o.result.camera_model ?? null) : null,
  ] as const;

/**
 * The columns the SQL Server outcome UPDATE sets from a CASE over the chunk's ids (md5 keeps its
 * value when the result has none; the camera is the result's only when Drive gave none).
 */
const OUTCOME_COLUMNS = ['status', 'attempts', 'error', 'etag', 'md5', 'bytes_copied', 'storage_provider', 'thumbnail_key', 'camera_make', 'camera_model'] as const;
const KEEPS_DRIVE_VALUE: ReadonlySet<string> = new Set(['camera_make', 'camera_model']);

/**
 * Bind parameters of one SQL Server outcome UPDATE (sqlServerOutcomeUpdate below): per file, its id
 * and its value in each column's CASE, and its id in the IN list; once, updated_at.
 */
export const OUTCOME_UPDATE_PARAMS = { perRow: 2 * OUTCOME_COLUMNS.length + 1, fixed: 1 } as const;

/** Files per SQL Server outcome UPDATE so that it binds at most `maxParams`. */
export const outcomeChunkSize = (maxParams: number) => Math.max(1, Math.floor((maxParams - OUTCOME_UPDATE_PARAMS.fixed) / OUTCOME_UPDATE_PARAMS.perRow));

/** One SQL Server UPDATE for a chunk of outcomes: a CASE per column; binds OUTCOME_UPDATE_PARAMS. */
function sqlServerOutcomeUpdate(part: Outcome[], destination: string, now: Date): Prisma.Sql {
  const rows = part.map((o) => outcomeValues(o, destination));
  const set = OUTCOME_COLUMNS.map((name, index) => {
    const cases = Prisma.sql`CASE "id" ${Prisma.join(
      part.map((o, row) => Prisma.sql`WHEN ${o.fileId} THEN ${rows[row]![index]}`),
      ' ',
    )} END`;
    const column = Prisma.raw(`"${name}"`);
    if (name === 'md5') return Prisma.sql`${column} = COALESCE(${cases}, ${column})`;
    if (KEEPS_DRIVE_VALUE.has(name)) return Prisma.sql`${column} = COALESCE(${column}, ${cases})`;
    return Prisma.sql`${column} = ${cases}`;
  });
  return Prisma.sql`UPDATE "files" SET
      ${Prisma.join(set, ',\n      ')},
      "updated_at" = ${now}
      WHERE "status" = 'pending' AND "id" IN (${Prisma.join(part.map((o) => o.fileId))})`;
}

/**
 * The outcomes in one statement per chunk rather than one per file: 100 files are one round trip.
 * SQLite reads them from ONE JSON parameter (json_each: binding 1,400 parameters through Prisma costs
 * more than the update); SQL Server gets a CASE per column. `status = 'pending'` in the WHERE keeps
 * the transition pending -> terminal only.
 */
async function writeOutcomes(tx: Tx, db: Db, destination: string, outcomes: Outcome[], now: Date): Promise<void> {
  if (db.provider === 'sqlite') {
    const json = JSON.stringify(outcomes.map((o) => [o.fileId, ...outcomeValues(o, destination)]), (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
    await tx.$executeRaw`UPDATE "files" SET
      "status" = j.value->>1, "attempts" = j.value->>2, "error" = j.value->>3, "etag" = j.value->>4,
      "md5" = COALESCE(j.value->>5, "files"."md5"), "bytes_copied" = j.value->>6, "storage_provider" = j.value->>7,
      "thumbnail_key" = j.value->>8,
      "camera_make" = COALESCE("files"."camera_make", j.value->>9), "camera_model" = COALESCE("files"."camera_model", j.value->>10),
      "updated_at" = ${now}
      FROM json_each(${json}) AS j
      WHERE "files"."id" = j.value->>0 AND "files"."status" = 'pending'`;
    return;
  }
  for (const part of chunks(outcomes, outcomeChunkSize(db.maxRawParams))) await tx.$executeRaw(sqlServerOutcomeUpdate(part, destination, now));
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

    const files = await tx.file.findMany({ where: { batchId, status: 'pending' }, select: { id: true, driveId: true, size: true, md5: true, storageKey: true } });
    const pending = new Map(files.map((f) => [f.driveId, f]));
    const outcomes: Outcome[] = [];
    for (const result of body.results) {
      const file = pending.get(result.drive_id);
      if (!file) continue; // not in this batch, already terminal, or repeated in this body
      pending.delete(result.drive_id);
      outcomes.push({ fileId: file.id, storageKey: file.storageKey, md5: result.md5 ?? file.md5, result, bytes: BigInt(result.bytes ?? (file.size === null ? 0 : Number(file.size))) });
    }
    if (!outcomes.length) return toJobSummary(job);

    const now = new Date();
    await writeOutcomes(tx, db, job.destination, outcomes, now);
    await recordStored(tx, db, job.destination, outcomes.filter(inStore).map((o) => ({ storageKey: o.storageKey, md5: o.md5, size: o.bytes, jobId: job.id, driveId: o.result.drive_id })), now);
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
    if (finalStatus) await recordActivity(tx, { actor: 'system', action: 'import.finished', job_id: job.id, detail: finalStatus }, now);
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

/**
 * A batch the copy queue gave up for good (its attempts or take-overs used up): the files still
 * pending in it fail with the queue's reason, so the job can end (and a retry copies them again)
 * instead of waiting for a batch no worker will ever take.
 */
export async function failGivenUpBatch(db: Db, batchId: string, jobId: string, reason: string): Promise<JobSummary> {
  const pending = await db.read.file.findMany({ where: { batchId, status: 'pending' }, select: { driveId: true } });
  const error = clipText(`the copy queue gave this file's batch up: ${reason}`);
  const results: FileResult[] = pending.map((f) => ({ drive_id: f.driveId, status: 'failed', bytes: null, md5: null, etag: null, error, attempts: 0 }));
  return recordResults(db, batchId, { job_id: jobId, results });
}
