/** The metadata-service's internal HTTP API (called by the import-service, the worker and the gateway). */
import {
  ActivityListQuery,
  AddFilesRequest,
  AppError,
  resolveWebhookTarget,
  type AddFilesResponse,
  BatchResultsRequest,
  conflict,
  Counter,
  CreateJobRequest,
  createServiceApp,
  createServiceMetrics,
  Gauge,
  FileListQuery,
  health,
  type ListingCompleteResponse,
  type Logger,
  mountMetrics,
  JobListQuery,
  OWNER_HEADER,
  RecordActivityRequest,
  UpdateJobRequest,
  validate,
  VerifyTokenRequest,
} from '@drive-import/common';
import type { Context } from 'hono';
import { completeListing, getBatch, recordResults } from './batches.ts';
import type { Db } from './db.ts';
import type { BatchDispatcher } from './dispatch.ts';
import { createStatusCache } from './status-cache.ts';
import { listActivity, recordActivity } from './activity.ts';
import { mountControlRoutes } from './control.ts';
import { addFiles, type JobLimits, tokenUsage } from './files.ts';
import { createJob, getJob, jobNotFound, jobStatus, listFiles, listJobs, updateJob } from './jobs.ts';
import { verifyTokenHash } from './tokens.ts';
import { listDeliveries } from './webhooks.ts';
import { storedObjectRoute } from './stored-objects.ts';
import { mountImageRoutes } from './images.ts';
import type { JobEvents } from './job-events.ts';

/** The token name a non-admin caller is limited to (the gateway's OWNER_HEADER), or undefined for all jobs. */
const ownerOf = (c: Context) => c.req.header(OWNER_HEADER) || undefined;

export interface MetadataAppDeps {
  db: Db;
  log: Logger;
  /** Puts sealed batches on the copy queue. */
  dispatcher: BatchDispatcher;
  /** INTERNAL_TOKEN (see createServiceApp). */
  internalToken?: string;
  /** Per-job caps (MAX_FILES_PER_JOB, MAX_BYTES_PER_JOB). */
  limits?: JobLimits;
  /** Set when callbacks are on (WEBHOOK_SECRET): the hosts allowed although not public. */
  webhooks?: { allowHosts: readonly string[] };
  /** Publishes each changed job's summary for the gateways' live streams; off when omitted. */
  jobEvents?: JobEvents;
}

// 5,000 listed files with long names and paths fit; the contracts bound every field.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Files recorded, results received and jobs by status (counted in the database at scrape time). */
function metadataMetrics(db: Db) {
  const metrics = createServiceMetrics('metadata-service');
  const filesAdded = new Counter({
    name: 'drive_import_metadata_service_files_added_total',
    help: 'Listed files recorded, by outcome (pending: to copy; skipped_unchanged: already stored in an earlier job)',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const results = new Counter({
    name: 'drive_import_metadata_service_file_results_total',
    help: 'Per-file results received from workers, by status (a redelivered result is counted again)',
    labelNames: ['status'] as const,
    registers: [metrics.registry],
  });
  new Gauge({
    name: 'drive_import_metadata_service_jobs',
    help: 'Import jobs by status, counted at scrape time',
    labelNames: ['status'] as const,
    registers: [metrics.registry],
    async collect() {
      const rows = await db.read.importJob.groupBy({ by: ['status'], _count: { _all: true } }).catch(() => null);
      this.reset();
      for (const row of rows ?? []) this.set({ status: row.status }, row._count._all);
    },
  });
  return { metrics, filesAdded, results };
}

export function createMetadataApp({ db, log, dispatcher, internalToken, limits = {}, webhooks, jobEvents }: MetadataAppDeps) {
  const app = createServiceApp(log, { maxBodyBytes: MAX_BODY_BYTES, internalToken });
  const { metrics, filesAdded, results } = metadataMetrics(db);
  // Every write to a job drops its cached status: the same moment is when its live stream hears of it.
  const cache = createStatusCache();
  const statusCache: typeof cache = {
    get: cache.get,
    invalidate(jobId) {
      cache.invalidate(jobId);
      jobEvents?.changed(jobId);
    },
  };
  mountMetrics(app, metrics);

  app.get('/health', (c) => health(c, 'metadata-service', { database: () => db.ping() }));
  // The storage-service asks before it deletes an object: only keys the catalog knows are deleted.
  app.get('/stored-objects', storedObjectRoute(db));

  app.post('/tokens/verify', validate('json', VerifyTokenRequest), async (c) => c.json(await verifyTokenHash(db, c.req.valid('json').hash)));
  app.post('/jobs', validate('json', CreateJobRequest), async (c) => {
    const body = c.req.valid('json');
    // A token at its quota starts nothing (one that passes it while listing is stopped in addFiles).
    const usage = await tokenUsage(db.read, body.owner);
    if (usage && ((usage.maxFiles !== null && usage.files >= usage.maxFiles) || (usage.maxBytes !== null && usage.bytes >= usage.maxBytes))) {
      throw new AppError(403, 'quota_exceeded', `Token ${body.owner} has used its quota (${usage.files} of ${usage.maxFiles ?? 'unlimited'} files, ${usage.bytes} of ${usage.maxBytes ?? 'unlimited'} bytes)`);
    }
    if (body.callback_url) {
      if (!webhooks) throw new AppError(400, 'webhooks_not_configured', 'callback_url needs WEBHOOK_SECRET set on this deployment');
      await resolveWebhookTarget(body.callback_url, webhooks.allowHosts);
    }
    const job = await createJob(db, body);
    jobEvents?.changed(job.job_id);
    return c.json(job, 201);
  });
  app.get('/jobs/:id/deliveries', async (c) => c.json(await listDeliveries(db, c.req.param('id'), ownerOf(c))));
  app.get('/jobs', validate('query', JobListQuery), async (c) => c.json(await listJobs(db, c.req.valid('query'), ownerOf(c))));
  app.get('/jobs/:id', async (c) => c.json(await getJob(db, c.req.param('id'), ownerOf(c))));
  app.patch('/jobs/:id', validate('json', UpdateJobRequest), async (c) => {
    const job = await updateJob(db, c.req.param('id'), c.req.valid('json'));
    statusCache.invalidate(job.job_id);
    return c.json(job);
  });
  app.get('/jobs/:id/status', async (c) => {
    const id = c.req.param('id');
    const answer = await statusCache.get(id, async () => {
      const status = await jobStatus(db, id);
      return { owner: status.owner, body: JSON.stringify(status) };
    });
    const owner = ownerOf(c);
    if (owner !== undefined && answer.owner !== owner) throw jobNotFound(id);
    return c.body(answer.body, 200, { 'content-type': 'application/json' });
  });
  app.get('/jobs/:id/files', validate('query', FileListQuery), async (c) => c.json(await listFiles(db, c.req.param('id'), c.req.valid('query'), ownerOf(c))));
  app.post('/jobs/:id/files', validate('json', AddFilesRequest), async (c) => {
    const added = await addFiles(db, c.req.param('id'), c.req.valid('json'), limits);
    statusCache.invalidate(c.req.param('id'));
    // 409 like any ended job: the listing stops there.
    if (added.capExceeded) throw conflict(added.capExceeded, 'job_cap_exceeded');
    filesAdded.inc({ outcome: 'pending' }, added.inserted - added.skipped_unchanged);
    filesAdded.inc({ outcome: 'skipped_unchanged' }, added.skipped_unchanged);
    // Committed above; enqueued now (or by the sweep if Redis is away): the outbox.
    await dispatcher.dispatch(c.req.param('id').toLowerCase(), added.sealed);
    return c.json({ inserted: added.inserted, skipped_unchanged: added.skipped_unchanged, batches_sealed: added.sealed.length } satisfies AddFilesResponse);
  });
  app.post('/jobs/:id/listing-complete', async (c) => {
    const done = await completeListing(db, c.req.param('id'));
    statusCache.invalidate(done.job.job_id);
    await dispatcher.dispatch(done.job.job_id, done.sealed);
    return c.json({ job: done.job, batches_sealed: done.sealed.length } satisfies ListingCompleteResponse);
  });
  mountControlRoutes(app, { db, dispatcher, statusCache, ownerOf });
  app.get('/activity', validate('query', ActivityListQuery), async (c) => c.json(await listActivity(db, c.req.valid('query'), ownerOf(c))));
  app.post('/activity', validate('json', RecordActivityRequest), async (c) => {
    await db.transaction((tx) => recordActivity(tx, c.req.valid('json')));
    return c.body(null, 204);
  });
  mountImageRoutes(app, { db, ownerOf, onJobsChanged: (ids) => ids.forEach((id) => statusCache.invalidate(id)) });
  app.get('/batches/:batch_id', async (c) => c.json(await getBatch(db, c.req.param('batch_id'))));
  app.post('/batches/:batch_id/results', validate('json', BatchResultsRequest), async (c) => {
    const body = c.req.valid('json');
    const summary = await recordResults(db, c.req.param('batch_id'), body);
    statusCache.invalidate(body.job_id);
    for (const r of body.results) results.inc({ status: r.status });
    return c.json(summary);
  });

  return app;
}
