/**
 * Everything that crosses a service boundary (HTTP bodies, queue payloads), defined once.
 * JSON is snake_case throughout, as the older system's public API was.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------------
export const DriveId = z.string().regex(/^[A-Za-z0-9_-]{10,200}$/, 'not a Google Drive id');
export const JobId = z.uuid();
/** An API token's name: who started a job, in lists and the activity log. */
export const TokenName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'a token name is 1-64 letters, digits and _ . @ - (starting with a letter or digit)');
/** `<job_id>-b<index>`, also the copy batch's BullMQ job id. */
export const BatchId = z.string().regex(/^[0-9a-f-]{36}-b\d+$/);
export const Destination = z.enum(['s3', 'azure', 'local']);
export type Destination = z.infer<typeof Destination>;

export const JobStatus = z.enum(['queued', 'listing', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

/** pending -> stored | skipped (already in the store, unchanged) | failed (given up on). */
export const FileStatus = z.enum(['pending', 'stored', 'skipped', 'failed']);
export type FileStatus = z.infer<typeof FileStatus>;

const isoDate = z.iso.datetime({ offset: true });
const bytes = z.number().int().nonnegative();


// ---------------------------------------------------------------------------------------------
// Public API (gateway)
// ---------------------------------------------------------------------------------------------
export const CreateImportRequest = z.strictObject({
  folder_url: z.string().trim().min(1).max(2048),
  destination: Destination.optional(),
});
export type CreateImportRequest = z.infer<typeof CreateImportRequest>;

export const CreateImportResponse = z.object({
  job_id: JobId,
  status: z.literal('queued'),
  message: z.string(),
  /** Always null at POST time: listing runs in the background; the status route carries the count. */
  total_images: z.null(),
  status_url: z.string(),
});
export type CreateImportResponse = z.infer<typeof CreateImportResponse>;

/** One file as the public API shows it. */
export const FileRecord = z.object({
  id: DriveId,
  name: z.string(),
  folder_path: z.string(),
  mime_type: z.string(),
  size: bytes.nullable(),
  md5: z.string().nullable(),
  modified_time: isoDate.nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  taken_at: z.string().nullable(),
  status: FileStatus,
  attempts: z.number().int().nonnegative(),
  error: z.string().nullable(),
  storage_provider: Destination.nullable(),
  storage_key: z.string(),
  etag: z.string().nullable(),
  updated_at: isoDate,
});
export type FileRecord = z.infer<typeof FileRecord>;

export const JobSummary = z.object({
  job_id: JobId,
  status: JobStatus,
  folder_id: DriveId,
  folder_name: z.string().nullable(),
  destination: Destination,
  listing_complete: z.boolean(),
  total: z.number().int().nonnegative(),
  /** Files that are in the store: copied now or skipped as already stored unchanged. */
  processed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Part of processed. */
  skipped: z.number().int().nonnegative(),
  bytes_total: bytes,
  bytes_done: bytes,
  error: z.string().nullable(),
  created_at: isoDate,
  started_at: isoDate.nullable(),
  finished_at: isoDate.nullable(),
  /** The name of the token that started the job (null for jobs from before tokens). */
  owner: z.string().nullable(),
});
export type JobSummary = z.infer<typeof JobSummary>;

export const JobStatusResponse = JobSummary.extend({
  /** The latest 20 files in the store (stored or skipped), newest first. */
  imported: z.array(FileRecord),
  /** The latest 20 per-file errors, newest first. */
  errors: z.array(FileRecord),
});
export type JobStatusResponse = z.infer<typeof JobStatusResponse>;

/** GET /api/import/jobs: newest first, a keyset page at a time (`cursor` = the last page's `next_cursor`). */
export const JobListQuery = z.strictObject({
  per_page: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().regex(/^\d{1,15}_[0-9a-f-]{36}$/, 'not a cursor from next_cursor').optional(),
});
export type JobListQuery = z.infer<typeof JobListQuery>;

export const JobListResponse = z.object({
  jobs: z.array(JobSummary),
  per_page: z.number().int(),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: z.string().nullable(),
  total: z.number().int(),
});
export type JobListResponse = z.infer<typeof JobListResponse>;

/**
 * A job's files in listing order, paged by keyset: `cursor` is the previous page's `next_cursor`
 * (opaque), so page 10,000 costs what page 1 costs.
 */
export const FileListQuery = z.strictObject({
  status: FileStatus.optional(),
  per_page: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().regex(/^\d{1,15}$/, 'not a cursor from next_cursor').optional(),
});
export type FileListQuery = z.infer<typeof FileListQuery>;

export const FileListResponse = z.object({
  files: z.array(FileRecord),
  per_page: z.number().int(),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: z.string().nullable(),
  /** Files of the job with this status (all of them without one), from the job's counters. */
  total: z.number().int(),
});
export type FileListResponse = z.infer<typeof FileListResponse>;

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  service: z.string(),
  version: z.string(),
  /** 'ok' or the reason a dependency is down. */
  checks: z.record(z.string(), z.string()),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

// ---------------------------------------------------------------------------------------------
// import-service internal API (called by the gateway)
// ---------------------------------------------------------------------------------------------
/** The validated public body plus who asked (the token's name): POST /imports -> 202 CreateImportResponse. */
export const StartImportRequest = CreateImportRequest.extend({ owner: TokenName.nullable().default(null) });
export type StartImportRequest = z.infer<typeof StartImportRequest>;

// ---------------------------------------------------------------------------------------------
// metadata-service internal API (called by import-service and worker)
// ---------------------------------------------------------------------------------------------
/** POST /jobs -> 201 JobSummary */
export const CreateJobRequest = z.strictObject({
  folder_id: DriveId,
  folder_name: z.string().max(1024).nullable(),
  resource_key: z.string().max(200).nullable().default(null),
  destination: Destination,
  batch_size: z.number().int().min(1).max(1000),
  owner: TokenName.nullable().default(null),
});
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;

/** PATCH /jobs/:id -> JobSummary. Only the transitions the import-service drives. */
export const UpdateJobRequest = z.strictObject({
  status: z.enum(['listing', 'failed', 'cancelled']),
  error: z.string().max(4000).nullable().optional(),
});
export type UpdateJobRequest = z.infer<typeof UpdateJobRequest>;

/** A file as the listing found it, with the object key it will be stored under. */
export const ListedFile = z.strictObject({
  drive_id: DriveId,
  name: z.string().min(1).max(4096),
  folder_path: z.string().max(8192),
  mime_type: z.string().min(1).max(255),
  size: bytes.nullable(),
  md5: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
  modified_time: isoDate.nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  taken_at: z.string().max(64).nullable(),
  storage_key: z.string().min(1).max(1024),
});
export type ListedFile = z.infer<typeof ListedFile>;

/** What a worker needs to copy one file. */
export const CopyFile = z.object({
  drive_id: DriveId,
  name: z.string(),
  mime_type: z.string(),
  size: bytes.nullable(),
  md5: z.string().nullable(),
  storage_key: z.string(),
});
export type CopyFile = z.infer<typeof CopyFile>;

/**
 * The copy queue's payload: a reference only. Its BullMQ job id is batch_id; the worker fetches the
 * files with GET /batches/:batch_id, so a million queued files cost Redis a few MB, not gigabytes.
 */
export const CopyBatchRef = z.strictObject({ job_id: JobId, batch_id: BatchId });
export type CopyBatchRef = z.infer<typeof CopyBatchRef>;

/** GET /batches/:batch_id: the batch's files still pending (none once it is done or the job ended). */
export const CopyBatch = z.object({
  job_id: JobId,
  batch_id: BatchId,
  destination: Destination,
  resource_key: z.string().nullable(),
  files: z.array(CopyFile).max(1000),
});
export type CopyBatch = z.infer<typeof CopyBatch>;

export const batchIdFor = (jobId: string, index: number) => `${jobId}-b${index}`;

/**
 * POST /jobs/:id/files -> AddFilesResponse. Upserts by (job, drive id): a retried listing adds
 * nothing twice. Files whose key already holds the same content (the key's latest stored state has
 * this md5) become `skipped` at once and never reach a batch. New pending files fill the job's open
 * batch; the metadata-service seals full batches and puts them on the copy queue itself.
 */
export const AddFilesRequest = z.strictObject({ files: z.array(ListedFile).min(1).max(5000) });
export type AddFilesRequest = z.infer<typeof AddFilesRequest>;
export const AddFilesResponse = z.object({
  inserted: z.number().int(),
  skipped_unchanged: z.number().int(),
  batches_sealed: z.number().int(),
});
export type AddFilesResponse = z.infer<typeof AddFilesResponse>;

/**
 * POST /jobs/:id/listing-complete (no body) -> ListingCompleteResponse. Seals the open batch and
 * marks the listing complete; a job with no pending file completes here. Idempotent.
 */
export const ListingCompleteResponse = z.object({
  job: JobSummary,
  batches_sealed: z.number().int(),
});
export type ListingCompleteResponse = z.infer<typeof ListingCompleteResponse>;

/** One file's outcome from a worker. */
export const FileResult = z.strictObject({
  drive_id: DriveId,
  status: z.enum(['stored', 'skipped', 'failed']),
  bytes: bytes.nullable().default(null),
  md5: z.string().regex(/^[0-9a-f]{32}$/).nullable().default(null),
  etag: z.string().max(255).nullable().default(null),
  error: z.string().max(4000).nullable().default(null),
  attempts: z.number().int().nonnegative(),
});
export type FileResult = z.infer<typeof FileResult>;

/**
 * POST /batches/:batch_id/results -> JobSummary. One transaction: files move pending -> terminal
 * (a redelivered result changes nothing and counts nothing twice), counters follow, the batch is
 * done, and the job completes when listing is complete and no file is pending.
 */
export const BatchResultsRequest = z.strictObject({
  job_id: JobId,
  results: z.array(FileResult).min(1).max(1000),
});
export type BatchResultsRequest = z.infer<typeof BatchResultsRequest>;

// ---------------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------------
/** The listing queue's payload; its BullMQ job id is `list-<job_id>`. */
export const ListingJobData = z.object({
  job_id: JobId,
  folder_id: DriveId,
  resource_key: z.string().nullable(),
  destination: Destination,
});
export type ListingJobData = z.infer<typeof ListingJobData>;

// ---------------------------------------------------------------------------------------------
// API tokens (gateway -> metadata-service)
// ---------------------------------------------------------------------------------------------
/** POST /tokens/verify: the sha256 (hex) of a bearer token -> 200 TokenIdentity, or 404 when unknown or revoked. */
export const VerifyTokenRequest = z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/) });
export const TokenIdentity = z.object({ name: TokenName, admin: z.boolean() });
export type TokenIdentity = z.infer<typeof TokenIdentity>;
/**
 * Internal header on job routes of the metadata-service: the job must belong to this token name
 * (404 otherwise) and lists show only its jobs. The gateway sets it for every non-admin token.
 */
export const OWNER_HEADER = 'x-job-owner';

// ---------------------------------------------------------------------------------------------
// Stored objects (storage-service -> metadata-service)
// ---------------------------------------------------------------------------------------------
/**
 * GET /stored-objects?destination=&key= -> 200 StoredObjectResponse, or 404 `stored_object_not_found`:
 * what the catalog (stored_objects) says a key of a destination holds now. The storage-service asks
 * before it deletes anything: a key the catalog does not know is never deleted.
 */
export const StoredObjectQuery = z.strictObject({
  destination: Destination,
  key: z.string().min(1).max(1024),
});
export type StoredObjectQuery = z.infer<typeof StoredObjectQuery>;
export const StoredObjectResponse = z.object({
  destination: Destination,
  key: z.string(),
  md5: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  job_id: z.string(),
  drive_id: z.string(),
});
export type StoredObjectResponse = z.infer<typeof StoredObjectResponse>;
