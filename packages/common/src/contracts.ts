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

/** `paused`: its batches wait (running ones finish) until it is resumed; the listing goes on. */
export const JobStatus = z.enum(['queued', 'listing', 'processing', 'paused', 'completed', 'completed_with_errors', 'failed', 'cancelled']);
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
  /** POSTed the job's summary, signed (X-Drive-Import-Signature), when the job ends. */
  callback_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** A WebP thumbnail (320 px) of each image. Omitted: THUMBNAILS (default false). Kept on the job: its retries make them too. */
  thumbnails: z.boolean().optional(),
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
  callback_url: z.string().nullable(),
  /** pending (sent when the job ends) | delivered | failed (gave up); null without a callback. */
  callback_state: z.enum(['pending', 'delivered', 'failed']).nullable(),
  /** The workers make a WebP thumbnail of each of the job's images (the request's `thumbnails`, or THUMBNAILS). */
  thumbnails: z.boolean(),
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
  callback_url: z.url({ protocol: /^https?$/ }).max(2048).nullable().default(null),
  /** Already resolved by the import-service (the request's `thumbnails`, else THUMBNAILS). */
  thumbnails: z.boolean().optional(),
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
  /** Drive's imageMediaMetadata.cameraMake / cameraModel. */
  camera_make: z.string().max(255).nullable().optional(),
  camera_model: z.string().max(255).nullable().optional(),
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
  /** True when Drive already gave the camera (make or model): the worker reads no EXIF for it. */
  has_camera: z.boolean().optional(),
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
  /** The job is paused: no files now; the worker puts the batch back to wait (no attempt spent). */
  paused: z.boolean().optional(),
  /** The job's `thumbnails`: make a WebP thumbnail of each of these files (within the worker's THUMBNAIL_MAX_BYTES). */
  thumbnails: z.boolean().optional(),
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
  /** The WebP thumbnail's key in the same store, when the worker made one. */
  thumbnail_key: z.string().min(1).max(1024).nullable().optional(),
  /** Camera make and model from the file's EXIF, when Drive gave none and the worker read them from the bytes going by. */
  camera_make: z.string().max(255).nullable().optional(),
  camera_model: z.string().max(255).nullable().optional(),
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

// ---------------------------------------------------------------------------------------------
// Images (gateway /api/images*, metadata-service /images*): the files in the store
// ---------------------------------------------------------------------------------------------
/**
 * An image is a file row in the store (status stored or skipped). Its `id` is the files table's
 * integer row id as a decimal string (stable, unique across jobs; the Drive id is not: two jobs of
 * one folder share Drive ids).
 */
export const ImageId = z.string().regex(/^[1-9]\d{0,14}$/, 'not an image id');

/** Rows an OFFSET page (`page=`) may skip; deeper pages need `cursor` (keyset). */
export const MAX_IMAGE_OFFSET = 10_000;

/**
 * GET /api/images: newest last (`sort=created_at`, the default, = listing order) or newest first
 * (`sort=-created_at`). `cursor` (the previous page's `next_cursor`) is a keyset page: page 10,000
 * costs what page 1 costs. `page` (the older API) is an OFFSET page, allowed while
 * (page - 1) * per_page <= MAX_IMAGE_OFFSET.
 */
export const ImageListQuery = z.strictObject({
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().regex(/^\d{1,15}$/, 'not a cursor from next_cursor').optional(),
  job_id: JobId.optional(),
  /** Images in this folder (its folder_path) or below it. */
  folder: z.string().max(8192).optional(),
  /** Exact MIME type (image/jpeg) or a type's family (image/*). */
  mime: z.string().max(255).optional(),
  /** A substring of the name or of the camera make or model (case-insensitive for ASCII). */
  q: z.string().min(1).max(255).optional(),
  /** A substring of the camera make or model (case-insensitive for ASCII). */
  camera: z.string().min(1).max(255).optional(),
  sort: z.enum(['created_at', '-created_at']).default('created_at'),
});
export type ImageListQuery = z.infer<typeof ImageListQuery>;

export const ImageRecord = z.object({
  id: ImageId,
  job_id: JobId,
  drive_id: z.string(),
  name: z.string(),
  folder_path: z.string(),
  mime_type: z.string(),
  size: bytes.nullable(),
  md5: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  taken_at: z.string().nullable(),
  /** From Drive's imageMediaMetadata, else from the file's EXIF (read while it was copied); null when neither had it. */
  camera_make: z.string().nullable(),
  camera_model: z.string().nullable(),
  destination: Destination,
  storage_key: z.string(),
  created_at: isoDate,
  /** The WebP thumbnail's key in the same store (under `<prefix>/thumbs/`); null when the worker made none. */
  thumbnail_key: z.string().nullable().default(null),
  /** The gateway's thumbnail route (`/api/images/<id>/thumbnail`, a 320 px WebP), or null when there is none. */
  thumbnail_url: z.string().nullable(),
  /** The gateway's content route for this image (`/api/images/<id>/content`). */
  url: z.string(),
});
export type ImageRecord = z.infer<typeof ImageRecord>;

export const ImageListResponse = z.object({
  images: z.array(ImageRecord),
  /** The OFFSET page answered, or null for a keyset (`cursor`) page. */
  page: z.number().int().nullable(),
  per_page: z.number().int(),
  /**
   * Images matching the filter. Without folder/mime/q: from the jobs' counters (exact, no scan).
   * With one: a bounded count, at most MAX_IMAGE_COUNT (then total_exact is false).
   */
  total: z.number().int(),
  total_exact: z.boolean(),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: z.string().nullable(),
});
export type ImageListResponse = z.infer<typeof ImageListResponse>;

/** A filtered count stops here (see ImageListResponse.total). */
export const MAX_IMAGE_COUNT = 10_000;

/** GET /api/images/:id: the image and a read URL (presigned for S3, SAS for Azure, signed storage-service URL for local). */
export const ImageDetailResponse = ImageRecord.extend({
  read_url: z.string().nullable(),
  /** Why read_url is null (the store could not make one), else null. */
  read_url_error: z.string().nullable(),
});
export type ImageDetailResponse = z.infer<typeof ImageDetailResponse>;

export const ImageDeleteOutcome = z.enum(['deleted', 'not_found', 'store_error']);
export type ImageDeleteOutcome = z.infer<typeof ImageDeleteOutcome>;
export const ImageDeleteResult = z.object({
  id: z.string(),
  result: ImageDeleteOutcome,
  /** For store_error: what the store said (the row and the object stay). */
  error: z.string().nullable(),
});
export type ImageDeleteResult = z.infer<typeof ImageDeleteResult>;

/** POST /api/images/bulk-delete: up to 1,000 ids, or every image of one job (deleted in chunks). */
export const BulkDeleteRequest = z.union([
  z.strictObject({ ids: z.array(ImageId).min(1).max(1000) }),
  z.strictObject({ job_id: JobId }),
]);
export type BulkDeleteRequest = z.infer<typeof BulkDeleteRequest>;

export const BulkDeleteResponse = z.object({
  deleted: z.number().int(),
  not_found: z.number().int(),
  store_error: z.number().int(),
  /**
   * Per id. For `{ids}`: every id. For `{job_id}`: only the ids that were NOT deleted (store_error),
   * at most 1,000 of them: a million-image job is not echoed back id by id.
   */
  results: z.array(ImageDeleteResult),
});
export type BulkDeleteResponse = z.infer<typeof BulkDeleteResponse>;

/**
 * metadata-service POST /images/lookup {ids} -> {images: ImageRecord[]} (those that exist and the caller may see);
 * POST /images/remove {ids} -> ImageRemoveResponse: removes the rows (their objects already deleted).
 */
export const ImageIdsRequest = z.strictObject({ ids: z.array(ImageId).min(1).max(1000) });
export type ImageIdsRequest = z.infer<typeof ImageIdsRequest>;
export const ImageLookupResponse = z.object({ images: z.array(ImageRecord) });
export type ImageLookupResponse = z.infer<typeof ImageLookupResponse>;
/** GET /api/images/all: the list's filters, no paging (every matching image, streamed). */
export const ImageStreamQuery = z.strictObject({
  job_id: JobId.optional(),
  folder: z.string().max(8192).optional(),
  mime: z.string().max(255).optional(),
  q: z.string().min(1).max(255).optional(),
  camera: z.string().min(1).max(255).optional(),
});
export type ImageStreamQuery = z.infer<typeof ImageStreamQuery>;
export const ImageRemoveResponse = z.object({ removed: z.array(z.string()), not_found: z.array(z.string()) });
export type ImageRemoveResponse = z.infer<typeof ImageRemoveResponse>;

const StoreUsage = z.object({ files: z.number().int(), bytes });

/**
 * GET /api/stats: the older system's keys (total_images, total_size_bytes, total_size_mb,
 * aws_images, azure_images) plus per store, per job (newest 100) and per day (of the job's start).
 * All from the jobs' counters (one row per import), never a scan of the files.
 */
export const StatsResponse = z.object({
  total_images: z.number().int(),
  total_size_bytes: bytes,
  total_size_mb: z.number(),
  aws_images: z.number().int(),
  azure_images: z.number().int(),
  local_images: z.number().int(),
  stores: z.object({ s3: StoreUsage, azure: StoreUsage, local: StoreUsage }),
  jobs: z.array(
    z.object({ job_id: JobId, destination: Destination, status: JobStatus, files: z.number().int(), bytes, failed: z.number().int(), created_at: isoDate }),
  ),
  days: z.array(z.object({ day: z.string(), jobs: z.number().int(), files: z.number().int(), bytes })),
});
export type StatsResponse = z.infer<typeof StatsResponse>;

/** GET /jobs/:id/deliveries: the job's webhook attempts, newest first (the latest 100). */
export const WebhookDeliveryRecord = z.object({
  attempt: z.number().int(),
  at: isoDate,
  status_code: z.number().int().nullable(),
  ok: z.boolean(),
  error: z.string().nullable(),
});
export const WebhookDeliveriesResponse = z.object({ deliveries: z.array(WebhookDeliveryRecord) });
export type WebhookDeliveriesResponse = z.infer<typeof WebhookDeliveriesResponse>;

// ---------------------------------------------------------------------------------------------
// Activity log
// ---------------------------------------------------------------------------------------------
export const ActivityAction = z.enum(['import.started', 'import.finished', 'job.cancel', 'job.retry', 'job.pause', 'job.resume', 'image.delete', 'image.bulk_delete']);
export const ActivityRecord = z.object({
  id: z.string(),
  at: isoDate,
  actor: z.string(),
  action: ActivityAction,
  job_id: z.string().nullable(),
  detail: z.string().nullable(),
});
export type ActivityRecord = z.infer<typeof ActivityRecord>;
/** GET /api/activity: newest first, a keyset page at a time (`cursor` = the last page's `next_cursor`). */
export const ActivityListQuery = z.strictObject({
  per_page: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^\d{1,15}$/, 'not a cursor from next_cursor').optional(),
});
export type ActivityListQuery = z.infer<typeof ActivityListQuery>;
export const ActivityListResponse = z.object({ activity: z.array(ActivityRecord), per_page: z.number().int(), next_cursor: z.string().nullable() });
export type ActivityListResponse = z.infer<typeof ActivityListResponse>;
/** POST /activity (gateway -> metadata-service): an entry only the gateway sees. */
export const RecordActivityRequest = z.strictObject({
  actor: TokenName,
  action: ActivityAction,
  job_id: JobId.nullable().default(null),
  detail: z.string().max(2000).nullable().default(null),
});
/** Internal header: the token name a change is made on behalf of (every gateway call sets it). */
export const ACTOR_HEADER = 'x-actor';
