/** Jobs: creation, the import-service's status changes, and the read side (summaries, lists, files). */
import { randomUUID } from 'node:crypto';
import {
  AppError,
  conflict,
  type CreateJobRequest,
  type FileListQuery,
  type FileListResponse,
  type JobListResponse,
  type JobStatusResponse,
  type JobSummary,
  type PageQuery,
  TERMINAL_JOB_STATUSES,
  type JobStatus,
  type UpdateJobRequest,
} from '@drive-import/common';
import type { Db, Tx } from './db.ts';
import type { ImportJob } from './generated/sqlite/client.ts';
import { toFileRecord, toJobSummary } from './records.ts';

export const isTerminal = (status: string) => TERMINAL_JOB_STATUSES.includes(status as JobStatus);

export const jobNotFound = (id: string) => new AppError(404, 'job_not_found', `No import job ${id}`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job row, or 404 (an id that is not even a UUID is just as unknown). */
export async function loadJob(client: Tx | Db['read'], id: string): Promise<ImportJob> {
  const job = UUID.test(id) ? await client.importJob.findUnique({ where: { id: id.toLowerCase() } }) : null;
  if (!job) throw jobNotFound(id);
  return job;
}

export async function createJob(db: Db, body: CreateJobRequest): Promise<JobSummary> {
  const job = await db.transaction((tx) =>
    tx.importJob.create({
      data: {
        id: randomUUID(),
        folderId: body.folder_id,
        folderName: body.folder_name,
        resourceKey: body.resource_key,
        destination: body.destination,
        batchSize: body.batch_size,
      },
    }),
  );
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
    return tx.importJob.update({
      where: { id: job.id },
      data: { status: body.status, finishedAt: now, error: body.error ?? job.error, startedAt: job.startedAt ?? now },
    });
  });
  return toJobSummary(job);
}

export async function getJob(db: Db, id: string): Promise<JobSummary> {
  return toJobSummary(await loadJob(db.read, id));
}

/** Newest first. */
export async function listJobs(db: Db, q: PageQuery): Promise<JobListResponse> {
  const [jobs, total] = await Promise.all([
    db.read.importJob.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (q.page - 1) * q.per_page, take: q.per_page }),
    db.read.importJob.count(),
  ]);
  return { jobs: jobs.map(toJobSummary), page: q.page, per_page: q.per_page, total };
}

/** The job plus its latest 100 files in the store and latest 100 failures. */
export async function jobStatus(db: Db, id: string): Promise<JobStatusResponse> {
  const job = await loadJob(db.read, id);
  const latest = (status: string[]) =>
    db.read.file.findMany({
      where: { jobId: job.id, status: { in: status } },
      orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
      take: 100,
    });
  const [imported, errors] = await Promise.all([latest(['stored', 'skipped']), latest(['failed'])]);
  return { ...toJobSummary(job), imported: imported.map(toFileRecord), errors: errors.map(toFileRecord) };
}

/** A job's files in listing order, optionally of one status. */
export async function listFiles(db: Db, id: string, q: FileListQuery): Promise<FileListResponse> {
  const job = await loadJob(db.read, id);
  const where = { jobId: job.id, ...(q.status ? { status: q.status } : {}) };
  const [files, total] = await Promise.all([
    db.read.file.findMany({ where, orderBy: { id: 'asc' }, skip: (q.page - 1) * q.per_page, take: q.per_page }),
    db.read.file.count({ where }),
  ]);
  return { files: files.map(toFileRecord), page: q.page, per_page: q.per_page, total };
}
