/** Database rows -> the contracts' JSON shapes (snake_case, ISO dates, byte counts as numbers). */
import type { Destination, FileRecord, FileStatus, JobStatus, JobSummary } from '@drive-import/common';
import type { File, ImportJob } from './generated/sqlite/client.ts';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Files still to copy: everything listed that is not yet in a terminal state. */
export const pendingCount = (job: Pick<ImportJob, 'totalFiles' | 'storedFiles' | 'skippedFiles' | 'failedFiles'>) =>
  job.totalFiles - job.storedFiles - job.skippedFiles - job.failedFiles;

export function toJobSummary(job: ImportJob): JobSummary {
  return {
    job_id: job.id,
    status: job.status as JobStatus,
    folder_id: job.folderId,
    folder_name: job.folderName,
    destination: job.destination as Destination,
    listing_complete: job.listingComplete,
    total: job.totalFiles,
    processed: job.storedFiles + job.skippedFiles,
    failed: job.failedFiles,
    skipped: job.skippedFiles,
    bytes_total: Number(job.bytesTotal),
    bytes_done: Number(job.bytesDone),
    error: job.error,
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    owner: job.owner,
    callback_url: job.callbackUrl,
    callback_state: job.callbackState as JobSummary['callback_state'],
    thumbnails: job.thumbnails,
  };
}

export function toFileRecord(file: File): FileRecord {
  return {
    id: file.driveId,
    name: file.name,
    folder_path: file.folderPath,
    mime_type: file.mimeType,
    size: file.size === null ? null : Number(file.size),
    md5: file.md5,
    modified_time: iso(file.modifiedTime),
    width: file.width,
    height: file.height,
    taken_at: file.takenAt,
    status: file.status as FileStatus,
    attempts: file.attempts,
    error: file.error,
    storage_provider: file.storageProvider as Destination | null,
    storage_key: file.storageKey,
    etag: file.etag,
    updated_at: file.updatedAt.toISOString(),
  };
}
