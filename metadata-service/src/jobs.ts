/** Jobs: creation, the import-service's status changes, and the read side (summaries, lists, files). */
import { randomUUID } from 'node:crypto';
import {
  AppError,
  conflict,
  type CreateJobRequest,
  type FileListQuery,
  type FileListResponse,
  type FileStatus,
  type JobListResponse,
  type JobStatusResponse,
  type JobSummary,
  type JobListQuery,
  scrubSecrets,
  TERMINAL_JOB_STATUSES,
  type JobStatus,
  type UpdateJobRequest,
} from '@drive-import/common';
import { recordActivity } from './activity.ts';
import type { Db, Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { pendingCount, toFileRecord, toJobSummary } from './records.ts';

export const isTerminal = (status: string) => TERMINAL_JOB_STATUSES.includes(status as JobStatus);

export const jobNotFound = (id: string) => new AppError(404, 'job_not_found', `No import job ${id}`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The job row, or 404 (an id that is not even a UUID is just as unknown). With `owner`, a job of
 * another token is just as unknown too: a non-admin token cannot even learn that it exists.
 */
export async function loadJob(client: Tx | Db['read'], id: string, owner?: string): Promise<ImportJob> {
  const job = UUID.test(id) ? await client.importJob.findUnique({ where: { id: id.toLowerCase() } }) : null;
  if (!job || (owner !== undefined && job.owner !== owner)) throw jobNotFound(id);
  return job;
}

export async function createJob(db: Db, body: CreateJobRequest): Promise<JobSummary> {
  const job = await db.transaction(async (tx) => {
    const created = await tx.importJob.create({
      data: {
        id: randomUUID(),
        folderId: body.folder_id,
        folderName: body.folder_name,
        resourceKey: body.resource_key,
        destination: body.destination,
        batchSize: body.batch_size,
        owner: body.owner,
        callbackUrl: body.callback_url,
        callbackState: body.callback_url ? 'pending' : null,
        thumbnails: body.thumbnails ?? false,
      },
    });
    await recordActivity(tx, { actor: body.owner ?? 'unknown', action: 'import.started', job_id: created.id, detail: body.folder_name ?? body.folder_id });
    return created;
  });
  return toJobSummary(job);
}

/**
 * listing: queued -> listing (startedAt set once; repeating it is harmless, as a retried listing
 * does). failed / cancelled: finishedAt and error set. A terminal job never moves again (409), but
 * asking for the state it is already in answers 200, so retries are safe.
 */
export async function updateJob(db: Db, id: string, body: UpdateJobRequest): Promise<JobSummary> {
  const job = await db.transaction(async (tx) => {
    const job = await loadJob(tx, id);
    if (isTerminal(job.status)) {
      if (job.status === body.status) return job;
      throw conflict(`Job ${id} is already ${job.status}`, 'job_finished');
    }
    const now = new Date();
    if (body.status === 'listing') {
      // Once the listing is complete the job is past listing: a late duplicate must not move it back.
      if (job.status !== 'queued') return job;
      return tx.importJob.update({ where: { id: job.id }, data: { status: 'listing', startedAt: job.startedAt ?? now } });
    }
    await recordActivity(tx, { actor: 'system', action: 'import.finished', job_id: job.id, detail: body.status });
    return tx.importJob.update({
      where: { id: job.id },
      data: { status: body.status, finishedAt: now, error: body.error ? scrubSecrets(body.error) : job.error, startedAt: job.startedAt ?? now },
    });
  });
  return toJobSummary(job);
}

export async function getJob(db: Db, id: string, owner?: string): Promise<JobSummary> {
  return toJobSummary(await loadJob(db.read, id, owner));
}

/** Newest first, by keyset on (created_at, id): `cursor` is `<created_at ms>_<id>` of the last job shown. */
export async function listJobs(db: Db, q: JobListQuery, owner?: string): Promise<JobListResponse> {
  const [at, id] = q.cursor ? q.cursor.split('_') : [];
  const before = at && id ? { OR: [{ createdAt: { lt: new Date(Number(at)) } }, { createdAt: new Date(Number(at)), id: { lt: id } }] } : {};
  const mine = owner === undefined ? {} : { owner };
  const [jobs, total] = await Promise.all([
    db.read.importJob.findMany({ where: { ...mine, ...before }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: q.per_page + 1 }),
    // One row per import: small enough to count.
    db.read.importJob.count({ where: mine }),
  ]);
  const more = jobs.length > q.per_page;
  const page = more ? jobs.slice(0, q.per_page) : jobs;
  const last = page[page.length - 1];
  return { jobs: page.map(toJobSummary), per_page: q.per_page, next_cursor: more && last ? `${last.createdAt.getTime()}_${last.id}` : null, total };
}

/** Files each status list of the status route carries. */
export const STATUS_LATEST = 20;

/**
 * The job (its counters are kept as files change) plus its latest 20 files in the store and
 * latest 20 failures. Each list is read newest-first from the (job, status, updated_at) index and
 * stops after 20 rows, so a poll costs the same at ten files or a million.
 */
export async function jobStatus(db: Db, id: string): Promise<JobStatusResponse> {
  const job = await loadJob(db.read, id);
  const latest = (status: FileStatus) =>
    db.read.file.findMany({ where: { jobId: job.id, status }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], take: STATUS_LATEST });
  const [stored, skipped, errors] = await Promise.all([latest('stored'), latest('skipped'), latest('failed')]);
  const imported = [...stored, ...skipped]
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || b.id - a.id)
    .slice(0, STATUS_LATEST);
  return { ...toJobSummary(job), imported: imported.map(toFileRecord), errors: errors.map(toFileRecord) };
}

/** Files of the job with this status, from the counters (no COUNT per request). */
function countOf(job: ImportJob, status: FileStatus | undefined): number {
  switch (status) {
    case undefined:
      return job.totalFiles;
    case 'stored':
      return job.storedFiles;
    case 'skipped':
      return job.skippedFiles;
    case 'failed':
      return job.failedFiles;
    case 'pending':
      return pendingCount(job);
  }
}

/** A job's files in listing order, optionally of one status, a keyset page at a time (id > cursor). */
export async function listFiles(db: Db, id: string, q: FileListQuery, owner?: string): Promise<FileListResponse> {
  const job = await loadJob(db.read, id, owner);
  const files = await db.read.file.findMany({
    where: { jobId: job.id, ...(q.status ? { status: q.status } : {}), ...(q.cursor ? { id: { gt: Number(q.cursor) } } : {}) },
    orderBy: { id: 'asc' },
    take: q.per_page + 1,
  });
  const more = files.length > q.per_page;
  const page = more ? files.slice(0, q.per_page) : files;
  return {
    files: page.map(toFileRecord),
    per_page: q.per_page,
    next_cursor: more ? String(page[page.length - 1]!.id) : null,
    total: countOf(job, q.status),
  };
}
