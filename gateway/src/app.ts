/**
 * The public API. Every route validates its input here, at the edge, then asks the service that owns
 * the answer: import-service for new imports, metadata-service for jobs and files.
 */
import { fileURLToPath } from 'node:url';
import {
  badRequest,
  CreateImportRequest,
  CreateImportResponse,
  createServiceApp,
  createServiceMetrics,
  FileListQuery,
  FileListResponse,
  type StartImportRequest,
  type HealthOptions,
  HealthResponse,
  healthRoute,
  JobId,
  JobListResponse,
  JobSummary,
  ActivityListQuery,
  ActivityListResponse,
  WebhookDeliveriesResponse,
  Destination,
  type Logger,
  mountMetrics,
  JobListQuery,
  type ServiceClient,
  type ServiceMetrics,
} from '@drive-import/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { validate } from '@drive-import/common';
import { type AuthOptions, createAuth, type GatewayEnv, requireAdmin, scope } from './auth.ts';
import { createStatusCache, type StatusCacheOptions } from './status-cache.ts';
import { mountImageRoutes } from './images.ts';
import { mountOpenApi } from './openapi.ts';
import { type JobEventHub, mountLiveRoutes } from './live.ts';
import { mountSessionRoutes } from './session.ts';

/** The web app, built (npm run build -w @drive-import/frontend) into frontend/dist. */
export const FRONTEND_DIR = fileURLToPath(new URL('../../frontend/dist', import.meta.url));

export interface GatewayDeps {
  log: Logger;
  importService: ServiceClient;
  metadataService: ServiceClient;
  storageService: ServiceClient;
  /** Serve the web page from here (default: the repo's frontend/). */
  frontendDir?: string;
  /** Default: a fresh registry with the gateway's HTTP and process metrics. */
  metrics?: ServiceMetrics;
  /** Caching of the downstream health checks (default: 2 s TTL, 2 s per check). */
  health?: HealthOptions;
  /** Who may call (tokens, rate limits): every route but GET /health and the page's files. */
  auth: AuthOptions;
  /** The bull-board queue dashboard at /admin/queues, for admin tokens. Omitted: off (404). */
  queues?: readonly Queue[];
  /** The status route's cache (default: fresh 200 ms, served up to 1 s old). */
  statusCache?: StatusCacheOptions;
  /** Job summaries as they change (Redis), for the live routes; omitted: those routes answer 503. */
  jobEvents?: JobEventHub;
  /** DEMO_FOLDER_URL: a folder the web page offers to import (npm start's demo). */
  demoFolderUrl?: string;
}

export const ADMIN_BASE_PATH = '/admin/queues';
const DestinationsResponse = z.object({ default: Destination, destinations: z.array(Destination) });


function jobIdParam(c: Context): string {
  const parsed = JobId.safeParse(c.req.param('job_id'));
  if (!parsed.success) throw badRequest('job_id must be a job id (a UUID) as returned by POST /api/import/google-drive', 'invalid_job_id');
  return parsed.data;
}

export function createGatewayApp(deps: GatewayDeps) {
  const { importService, metadataService, storageService } = deps;
  const app = createServiceApp(deps.log) as unknown as Hono<GatewayEnv>;
  const auth = createAuth(deps.auth);
  mountOpenApi(app); // Public (before auth): GET /api/openapi.json and /api/docs describe the API, hold no data.
  mountSessionRoutes(app, auth); // Public (before auth): signing in and out.
  // Before the routes they guard: Hono runs handlers in the order they were added.
  for (const path of ['/api/*', '/metrics', ADMIN_BASE_PATH, `${ADMIN_BASE_PATH}/*`]) app.use(path, auth.required);
  for (const path of ['/metrics', ADMIN_BASE_PATH, `${ADMIN_BASE_PATH}/*`]) app.use(path, requireAdmin);
  mountMetrics(app, deps.metrics ?? createServiceMetrics('gateway'));

  if (deps.queues) {
    const board = new HonoAdapter(serveStatic).setBasePath(ADMIN_BASE_PATH);
    createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter: board });
    app.route(ADMIN_BASE_PATH, board.registerPlugin());
  }

  app.post('/api/import/google-drive', validate('json', CreateImportRequest), async (c) => {
    const body = await importService.call('POST', '/imports', {
      body: { ...c.req.valid('json'), owner: c.get('caller').name } satisfies StartImportRequest,
      requestId: c.get('requestId'),
      schema: CreateImportResponse,
    });
    return c.json(body, 202);
  });

  // Polled by every open page: the metadata-service's body (JobStatusResponse) is passed on as it
  // came, not parsed and re-serialized per poll.
  // Cached per job and caller scope (stale-while-revalidate, at most STATUS_MAX_AGE old): a poll is
  // answered at once, and a job's pollers together cost one metadata read per STATUS_FRESH.
  const statusCache = createStatusCache(deps.statusCache);
  app.get('/api/import/status/:job_id', async (c) => {
    const id = jobIdParam(c);
    const caller = c.get('caller');
    const headers = scope(caller);
    const body = await statusCache.get(`${id.toLowerCase()}|${caller.admin ? '*' : caller.name}`, () =>
      metadataService.raw('GET', `/jobs/${id}/status`, { requestId: c.get('requestId'), headers }),
    );
    return c.body(body, 200, { 'content-type': 'application/json', 'cache-control': 'private, max-age=1' });
  });

  app.get('/api/import/jobs', validate('query', JobListQuery), async (c) => {
    const body = await metadataService.call('GET', '/jobs', {
      query: c.req.valid('query'),
      requestId: c.get('requestId'),
      headers: scope(c.get('caller')),
      schema: JobListResponse,
    });
    return c.json(body);
  });

  // Cancel stops the job (its queued batches leave the queue, running ones take no new file); retry
  // queues its failed files again; pause holds its batches (running ones finish) until resume.
  // Each answers the job's summary; a job of another token is a 404.
  for (const action of ['cancel', 'retry', 'pause', 'resume'] as const) {
    app.post(`/api/import/jobs/:job_id/${action}`, async (c) => {
      const body = await metadataService.call('POST', `/jobs/${jobIdParam(c)}/${action}`, {
        requestId: c.get('requestId'),
        headers: scope(c.get('caller')),
        schema: JobSummary,
      });
      return c.json(body);
    });
  }

  mountLiveRoutes(app, { hub: deps.jobEvents, metadataService, jobIdParam });

  // Who the page is signed in as, and what its import form offers.
  app.get('/api/session', async (c) => {
    const caller = c.get('caller');
    const stores = await importService.call('GET', '/destinations', { requestId: c.get('requestId'), schema: DestinationsResponse });
    return c.json({ name: caller.name, admin: caller.admin, destinations: stores.destinations, default_destination: stores.default, demo_folder_url: deps.demoFolderUrl ?? null });
  });

  // Newest first; a user token sees its own entries, an admin token everyone's.
  app.get('/api/activity', validate('query', ActivityListQuery), async (c) =>
    c.json(await metadataService.call('GET', '/activity', { query: c.req.valid('query'), requestId: c.get('requestId'), headers: scope(c.get('caller')), schema: ActivityListResponse })),
  );

  app.get('/api/import/jobs/:job_id/deliveries', async (c) =>
    c.json(await metadataService.call('GET', `/jobs/${jobIdParam(c)}/deliveries`, { requestId: c.get('requestId'), headers: scope(c.get('caller')), schema: WebhookDeliveriesResponse })),
  );

  app.get('/api/import/jobs/:job_id/files', validate('query', FileListQuery), async (c) => {
    const body = await metadataService.call('GET', `/jobs/${jobIdParam(c)}/files`, {
      query: c.req.valid('query'),
      requestId: c.get('requestId'),
      headers: scope(c.get('caller')),
      schema: FileListResponse,
    });
    return c.json(body);
  });

  mountImageRoutes(app, { metadataService, storageService });

  // Each service's /health is asked at most once per TTL, however many callers (load balancers,
  // probes, a load test) hit this one: concurrent calls share the in-flight check.
  // Public: {status} only (and 200/503). The per-service reasons name buckets, paths and hosts: admins only.
  const health = healthRoute(
    'gateway',
    {
      'import-service': () => importService.call('GET', '/health', { schema: HealthResponse, timeoutMs: 1500 }),
      'metadata-service': () => metadataService.call('GET', '/health', { schema: HealthResponse, timeoutMs: 1500 }),
      'storage-service': () => storageService.call('GET', '/health', { schema: HealthResponse, timeoutMs: 1500 }),
    },
    deps.health,
  );
  app.get('/health', async (c) => {
    const res = await health(c);
    const caller = c.req.header('authorization') ? await auth.identify(c).catch(() => null) : null;
    if (caller?.admin) return res;
    const { status } = (await res.json()) as { status: string };
    return c.json({ status }, res.status as 200 | 503);
  });

  app.use('/*', serveStatic({ root: deps.frontendDir ?? FRONTEND_DIR }));

  return app;
}
