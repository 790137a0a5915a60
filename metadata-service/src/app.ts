/** The metadata-service's internal HTTP API (called by the import-service, the worker and the gateway). */
import {
  AddFilesRequest,
  badRequest,
  BatchResultsRequest,
  CreateJobRequest,
  createServiceApp,
  describeZodError,
  FileListQuery,
  health,
  ListingCompleteRequest,
  type Logger,
  PageQuery,
  UpdateJobRequest,
  validate,
} from '@drive-import/common';
import { completeListing, recordResults } from './batches.ts';
import type { Db } from './db.ts';
import { addFiles } from './files.ts';
import { createJob, getJob, jobStatus, listFiles, listJobs, updateJob } from './jobs.ts';

export interface MetadataAppDeps {
  db: Db;
  log: Logger;
}

// 5,000 listed files with long names and paths fit; the contracts bound every field.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function createMetadataApp({ db, log }: MetadataAppDeps) {
  const app = createServiceApp(log, { maxBodyBytes: MAX_BODY_BYTES });

  app.get('/health', (c) => health(c, 'metadata-service', { database: () => db.ping() }));

  app.post('/jobs', validate('json', CreateJobRequest), async (c) => c.json(await createJob(db, c.req.valid('json')), 201));
  app.get('/jobs', validate('query', PageQuery), async (c) => c.json(await listJobs(db, c.req.valid('query'))));
  app.get('/jobs/:id', async (c) => c.json(await getJob(db, c.req.param('id'))));
  app.patch('/jobs/:id', validate('json', UpdateJobRequest), async (c) => c.json(await updateJob(db, c.req.param('id'), c.req.valid('json'))));
  app.get('/jobs/:id/status', async (c) => c.json(await jobStatus(db, c.req.param('id'))));
  app.get('/jobs/:id/files', validate('query', FileListQuery), async (c) => c.json(await listFiles(db, c.req.param('id'), c.req.valid('query'))));
  app.post('/jobs/:id/files', validate('json', AddFilesRequest), async (c) => c.json(await addFiles(db, c.req.param('id'), c.req.valid('json'))));
  app.post('/jobs/:id/listing-complete', async (c) => {
    // The body is optional (older callers send none); when present it must be valid.
    const text = await c.req.text();
    let json: unknown = {};
    try {
      if (text.trim()) json = JSON.parse(text);
    } catch {
      throw badRequest('Request body is not valid JSON', 'invalid_json');
    }
    const body = ListingCompleteRequest.safeParse(json);
    if (!body.success) throw badRequest(describeZodError(body.error));
    return c.json(await completeListing(db, c.req.param('id'), body.data.enqueued_batch_ids));
  });
  app.post('/batches/:batch_id/results', validate('json', BatchResultsRequest), async (c) =>
    c.json(await recordResults(db, c.req.param('batch_id'), c.req.valid('json'))),
  );

  return app;
}
