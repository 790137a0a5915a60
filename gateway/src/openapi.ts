/**
 * The public API described as an OpenAPI 3.1 document, generated from the zod contracts (never
 * written by hand): ROUTES lists each public route of app.ts and images.ts with the contracts it
 * validates and answers with, and buildOpenApiDocument turns the contracts into JSON Schema
 * (draft 2020-12, the dialect of OpenAPI 3.1) with z.toJSONSchema.
 *
 * A route added to the gateway but not to ROUTES fails gateway/test/openapi.test.ts.
 *
 * Served at GET /api/openapi.json and GET /api/docs (a self-contained page that renders it: no CDN).
 * Both are public, no token: they describe the API and hold no data.
 */
import { createHash } from 'node:crypto';
import {
  ActivityListQuery,
  ActivityListResponse,
  ActivityRecord,
  BulkDeleteRequest,
  BulkDeleteResponse,
  CreateImportRequest,
  CreateImportResponse,
  type ErrorBody,
  FileListQuery,
  FileListResponse,
  FileRecord,
  HealthResponse,
  ImageDeleteResult,
  ImageDetailResponse,
  ImageId,
  ImageListQuery,
  ImageListResponse,
  ImageRecord,
  ImageStreamQuery,
  JobId,
  JobListQuery,
  JobListResponse,
  JobStatusResponse,
  JobSummary,
  StatsResponse,
  VERSION,
  WebhookDeliveriesResponse,
} from '@drive-import/common';
import type { Hono } from 'hono';
import { z } from 'zod';
import type { GatewayEnv } from './auth.ts';
import { SessionRequest, SessionResponse } from './session.ts';

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';

/** The one error shape (errors.ts' ErrorBody) as a schema, for the document only. */
const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
}) satisfies z.ZodType<ErrorBody>;

/** GET /health without an admin token: the status only. */
const PublicHealthResponse = HealthResponse.pick({ status: true });

/** Request bodies: described as they are accepted (io: 'input': a field with a default is optional). */
const INPUTS = { CreateImportRequest, BulkDeleteRequest, SessionRequest };
/** Answers: described as they are sent (io: 'output'). Nested ones are $ref'd where named here. */
const OUTPUTS = {
  ErrorResponse,
  CreateImportResponse,
  FileRecord,
  JobSummary,
  JobStatusResponse,
  JobListResponse,
  FileListResponse,
  WebhookDeliveriesResponse,
  ActivityRecord,
  ActivityListResponse,
  ImageRecord,
  ImageListResponse,
  ImageDetailResponse,
  ImageDeleteResult,
  BulkDeleteResponse,
  StatsResponse,
  HealthResponse,
  PublicHealthResponse,
  SessionResponse,
};
type Named = keyof typeof INPUTS | keyof typeof OUTPUTS;

type JsonSchema = Record<string, unknown>;
type Auth = 'public' | 'bearer' | 'admin';
type ErrorStatus = 400 | 403 | 404 | 409 | 502 | 503;

interface RouteResponse {
  description: string;
  /** Media type -> schema. */
  content?: Record<string, JsonSchema>;
  headers?: Record<string, unknown>;
}

export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: `{job_id}`, not `:job_id`. */
  path: string;
  summary: string;
  description?: string;
  tag: 'imports' | 'jobs' | 'images' | 'system';
  /** bearer: any token; admin: an admin token (403 for a user token). Default: bearer. */
  auth?: Auth;
  body?: keyof typeof INPUTS;
  query?: z.ZodObject;
  params?: Record<string, { schema: z.ZodType; description: string }>;
  /** Request headers the route reads (besides Authorization). */
  headers?: Record<string, { schema: z.ZodType; description: string }>;
  responses: Record<number, RouteResponse>;
  /** Error answers besides those of auth (401, 403, 429), each in the error shape. */
  errors?: ErrorStatus[];
}

const ref = (name: Named): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof OUTPUTS) => ({ 'application/json': ref(name) });

const jobIdParam = { job_id: { schema: JobId, description: 'A job id (a UUID) as returned by POST /api/import/google-drive' } };
const imageIdParam = { id: { schema: ImageId, description: 'An image id (a positive integer, as a string) as listed by GET /api/images' } };

/** Range on the object routes: one range, passed down to the store. */
const rangeHeader = {
  Range: {
    schema: z.string().regex(/^bytes=(\d+-\d*|-\d+)$/),
    description: 'One byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (the last n bytes). Several ranges or another unit: ignored (200, the whole object).',
  },
};
const rangeResponses = (what: string): Record<number, RouteResponse> => ({
  206: {
    description: `The range of ${what} (Content-Range: bytes a-b/size)`,
    headers: { 'Content-Range': { schema: { type: 'string' } }, 'Accept-Ranges': { schema: { const: 'bytes' } } },
    content: { '*/*': { type: 'string', contentMediaType: 'application/octet-stream' } },
  },
  416: {
    description: 'No byte of the range is in the object (`range_not_satisfiable`; Content-Range: bytes */size)',
    headers: { 'Content-Range': { schema: { type: 'string' } } },
    content: json('ErrorResponse'),
  },
});

const JOB_ACTIONS = {
  cancel: 'Cancel a job: its queued batches leave the queue, running ones take no new file.',
  retry: 'Queue the failed files of a job that ended with failures again.',
  pause: 'Pause a job: its batches wait (running ones finish) until resume; the listing goes on.',
  resume: 'Resume a paused job.',
} as const;

const sse = (what: string): Record<number, RouteResponse> => ({
  200: {
    description: `Server-Sent Events: \`ready\` once, then \`job\` (data: a JobSummary) ${what}, \`ping\` every 15 s when idle`,
    content: { 'text/event-stream': { type: 'string' } },
  },
});

/** Every public route of the gateway. Keep in step with app.ts and images.ts (the test checks). */
export const ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/session',
    summary: 'Sign the web page in: the token comes back as an HttpOnly, SameSite=Strict session cookie',
    tag: 'system',
    auth: 'public',
    body: 'SessionRequest',
    responses: { 200: { description: 'Signed in (Set-Cookie)', content: json('SessionResponse') } },
    errors: [400],
  },
  {
    method: 'delete',
    path: '/api/session',
    summary: 'Sign the web page out (clears the session cookie)',
    tag: 'system',
    auth: 'public',
    responses: { 204: { description: 'Signed out' } },
  },
  {
    method: 'get',
    path: '/api/session',
    summary: 'Who is signed in, the destinations this deployment writes to, and the demo folder (if any)',
    tag: 'system',
    responses: { 200: { description: 'The caller and the import form\'s choices', content: json('SessionResponse') } },
    errors: [503],
  },
  {
    method: 'get',
    path: '/api/import/events',
    summary: 'Live: every job the caller may see, as it changes',
    tag: 'jobs',
    responses: sse('for each change of a job the caller may see'),
    errors: [503],
  },
  {
    method: 'get',
    path: '/api/import/jobs/{job_id}/events',
    summary: 'Live: one job now, then as it changes',
    tag: 'jobs',
    params: jobIdParam,
    responses: sse('now and at each change of the job'),
    errors: [400, 404, 503],
  },
  {
    method: 'post',
    path: '/api/import/google-drive',
    summary: 'Start an import of a Google Drive folder',
    description: 'The folder is listed in the background: follow the job at status_url.',
    tag: 'imports',
    body: 'CreateImportRequest',
    responses: { 202: { description: 'The job, queued', content: json('CreateImportResponse') } },
    errors: [400, 403, 404, 503],
  },
  {
    method: 'get',
    path: '/api/import/status/{job_id}',
    summary: "A job's progress, with its latest imported files and errors",
    tag: 'imports',
    params: jobIdParam,
    responses: { 200: { description: "The job's status (cached up to 1 s)", content: json('JobStatusResponse') } },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/import/jobs',
    summary: 'The jobs, newest first (a keyset page at a time)',
    description: 'A user token sees its own jobs; an admin token every job.',
    tag: 'jobs',
    query: JobListQuery,
    responses: { 200: { description: 'A page of jobs', content: json('JobListResponse') } },
    errors: [400, 503],
  },
  ...Object.entries(JOB_ACTIONS).map(
    ([action, summary]): RouteDoc => ({
      method: 'post',
      path: `/api/import/jobs/{job_id}/${action}`,
      summary,
      tag: 'jobs',
      params: jobIdParam,
      responses: { 200: { description: "The job's summary", content: json('JobSummary') } },
      errors: [400, 404, 409, 503],
    }),
  ),
  {
    method: 'get',
    path: '/api/import/jobs/{job_id}/deliveries',
    summary: "The job's webhook (callback_url) attempts, newest first",
    tag: 'jobs',
    params: jobIdParam,
    responses: { 200: { description: 'The latest 100 attempts', content: json('WebhookDeliveriesResponse') } },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/import/jobs/{job_id}/files',
    summary: "A job's files in listing order (a keyset page at a time)",
    tag: 'jobs',
    params: jobIdParam,
    query: FileListQuery,
    responses: { 200: { description: 'A page of files', content: json('FileListResponse') } },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/activity',
    summary: 'The activity log (who did what), newest first (a keyset page at a time)',
    description: 'A user token sees its own entries; an admin token everyone\'s.',
    tag: 'jobs',
    query: ActivityListQuery,
    responses: { 200: { description: 'A page of entries', content: json('ActivityListResponse') } },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/api/images',
    summary: 'The images in the store, filtered and paged',
    description: '`cursor` (the last page\'s next_cursor) is a keyset page; `page` an OFFSET page, allowed while it skips at most 10,000 images.',
    tag: 'images',
    query: ImageListQuery,
    responses: { 200: { description: 'A page of images', content: json('ImageListResponse') } },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/api/images/all',
    summary: 'Every matching image, streamed (no paging)',
    description: 'A JSON array, or NDJSON (one ImageRecord per line) with `Accept: application/x-ndjson`.',
    tag: 'images',
    query: ImageStreamQuery,
    responses: {
      200: {
        description: 'Every matching image',
        content: {
          'application/json': { type: 'array', items: ref('ImageRecord') },
          'application/x-ndjson': { ...ref('ImageRecord'), description: 'One ImageRecord per line' },
        },
      },
    },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/api/images/{id}',
    summary: 'An image, with a read URL of its object',
    tag: 'images',
    params: imageIdParam,
    responses: { 200: { description: 'The image', content: json('ImageDetailResponse') } },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/images/{id}/content',
    summary: "An image's bytes, streamed from its store",
    tag: 'images',
    params: imageIdParam,
    headers: rangeHeader,
    responses: {
      200: { description: 'The object (its own content type; Accept-Ranges: bytes)', content: { '*/*': { type: 'string', contentMediaType: 'application/octet-stream' } } },
      ...rangeResponses('the object'),
    },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/images/{id}/thumbnail',
    summary: "An image's WebP thumbnail (320 px), streamed from its store",
    description: '404 `thumbnail_not_found` when the worker made none.',
    tag: 'images',
    params: imageIdParam,
    headers: rangeHeader,
    responses: {
      200: { description: 'The thumbnail (Accept-Ranges: bytes)', content: { 'image/webp': { type: 'string', contentMediaType: 'image/webp' } } },
      ...rangeResponses('the thumbnail'),
    },
    errors: [400, 404, 503],
  },
  {
    method: 'delete',
    path: '/api/images/{id}',
    summary: 'Delete an image: its object, then its row',
    tag: 'images',
    params: imageIdParam,
    responses: {
      200: { description: 'Deleted', content: json('ImageDeleteResult') },
      404: { description: 'No such image (result not_found)', content: json('ImageDeleteResult') },
      502: { description: 'The store could not delete the object (result store_error; the row and the object stay)', content: json('ImageDeleteResult') },
    },
    errors: [400, 503],
  },
  {
    method: 'post',
    path: '/api/images/bulk-delete',
    summary: 'Delete up to 1,000 images by id, or every image of one job',
    tag: 'images',
    body: 'BulkDeleteRequest',
    responses: { 200: { description: 'The counts, and the results per id', content: json('BulkDeleteResponse') } },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/stats',
    summary: 'Totals per store, per job (newest 100) and per day',
    tag: 'images',
    responses: { 200: { description: 'The stats', content: json('StatsResponse') } },
    errors: [503],
  },
  {
    method: 'get',
    path: '/health',
    summary: 'Is the gateway and every service behind it up',
    description: 'Public: `{status}` only. With an admin token: every service\'s check as well.',
    tag: 'system',
    auth: 'public',
    responses: {
      200: { description: 'Every service is up', content: { 'application/json': { anyOf: [ref('PublicHealthResponse'), ref('HealthResponse')] } } },
      503: { description: 'A service is down', content: { 'application/json': { anyOf: [ref('PublicHealthResponse'), ref('HealthResponse')] } } },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of the gateway (admin only)',
    tag: 'system',
    auth: 'admin',
    responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: OPENAPI_PATH,
    summary: 'This document (OpenAPI 3.1)',
    tag: 'system',
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { type: 'object' } } } },
  },
  {
    method: 'get',
    path: DOCS_PATH,
    summary: 'This document as a page',
    tag: 'system',
    auth: 'public',
    responses: { 200: { description: 'An HTML page', content: { 'text/html': { type: 'string' } } } },
  },
];

/** Gateway paths that are not API routes and are not in the document. */
export const UNDOCUMENTED = [
  '/admin/queues (and below): the bull-board dashboard, a web UI for admin tokens',
  '/* : the web page (frontend/) served as static files',
];

const ERRORS: Record<ErrorStatus | 401 | 429, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'The request is invalid (the message names each bad field)' },
  401: { name: 'Unauthorized', description: 'No valid token (Authorization: Bearer <token>)' },
  403: { name: 'Forbidden', description: 'Not allowed (an admin route with a user token, or a Drive folder that may not be read)' },
  404: { name: 'NotFound', description: "Not found (or another token's job)" },
  409: { name: 'Conflict', description: 'The job cannot do that now' },
  429: { name: 'TooManyRequests', description: "Past the token's request budget; retry after Retry-After seconds" },
  502: { name: 'BadGateway', description: 'A service behind the gateway failed' },
  503: { name: 'Unavailable', description: 'A service behind the gateway is unavailable' },
};

/** A zod schema as JSON Schema 2020-12, without the `$schema` a fragment of a document must not repeat. */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Named schemas into components, each nested named one as a $ref. */
function components(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s as JsonSchema;
      return [id, rest];
    }),
  );
}

function parameters(route: RouteDoc): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, p] of Object.entries(route.params ?? {})) {
    out.push({ name, in: 'path', required: true, description: p.description, schema: toSchema(p.schema, 'input') });
  }
  for (const [name, p] of Object.entries(route.headers ?? {})) {
    out.push({ name, in: 'header', required: false, description: p.description, schema: toSchema(p.schema, 'input') });
  }
  if (route.query) {
    const q = toSchema(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      out.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  return out;
}

function operation(route: RouteDoc): JsonSchema {
  const auth = route.auth ?? 'bearer';
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.content ? { content: Object.fromEntries(Object.entries(r.content).map(([media, schema]) => [media, { schema }])) } : {}),
    };
  }
  const errors = new Set<keyof typeof ERRORS>(route.errors ?? []);
  if (auth !== 'public') errors.add(401).add(429);
  if (auth === 'admin') errors.add(403);
  for (const status of [...errors].sort()) {
    responses[String(status)] ??= { $ref: `#/components/responses/${ERRORS[status].name}` };
  }
  const params = parameters(route);
  return {
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[/._-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: auth === 'public' ? [] : [{ bearer: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(routes: readonly RouteDoc[] = ROUTES) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  const errorResponses = Object.fromEntries(
    Object.values(ERRORS).map(({ name, description }) => [
      name,
      {
        description,
        ...(name === 'TooManyRequests' ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {}),
        content: { 'application/json': { schema: ref('ErrorResponse') } },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'drive-import gateway',
      version: VERSION,
      description:
        'Copy Google Drive folders of images into S3, Azure Blob or local disk. Every route but the public ones needs `Authorization: Bearer <token>`. ' +
        'Every error is `{"error": {"code", "message"}}` with a 4xx/5xx status; every answer carries X-Request-Id. ' +
        'Generated from the zod contracts (packages/common/src/contracts.ts).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [
      { name: 'imports', description: 'Start and follow imports' },
      { name: 'jobs', description: 'Jobs, their files and actions' },
      { name: 'images', description: 'The images in the store' },
      { name: 'system', description: 'Health, metrics and this document' },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (ADMIN_TOKEN or one from `npm run token`)' } },
      schemas: { ...components(INPUTS, 'input'), ...components(OUTPUTS, 'output') },
      responses: errorResponses,
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

/** The docs page: the document rendered by a little vanilla JS, inline (nothing from elsewhere). */
const DOCS_SCRIPT = `
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const refLinks = (text) => esc(text).replace(/&quot;#\\/components\\/schemas\\/(\\w+)&quot;/g, (_, n) => '<a href="#schema-' + n + '">&quot;#/components/schemas/' + n + '&quot;</a>');
const code = (v) => '<pre>' + refLinks(JSON.stringify(v, null, 2)) + '</pre>';
const main = document.getElementById('main');
fetch(${JSON.stringify(OPENAPI_PATH)}).then((r) => r.json()).then((doc) => {
  document.title = doc.info.title + ' ' + doc.info.version;
  let html = '<h1>' + esc(doc.info.title) + ' <small>' + esc(doc.info.version) + '</small></h1><p>' + esc(doc.info.description) + '</p>';
  html += '<p><a href="${OPENAPI_PATH}">openapi.json</a></p>';
  for (const tag of doc.tags) {
    html += '<h2>' + esc(tag.name) + '</h2><p>' + esc(tag.description) + '</p>';
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.tags.includes(tag.name)) continue;
        html += '<details class="op"><summary><span class="m ' + method + '">' + method.toUpperCase() + '</span> <code>' + esc(path) + '</code> ' + esc(op.summary) + (op.security.length ? '' : ' <em>(public)</em>') + '</summary>';
        if (op.description) html += '<p>' + esc(op.description) + '</p>';
        if (op.parameters) {
          html += '<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>';
          for (const p of op.parameters) html += '<tr><td><code>' + esc(p.name) + '</code></td><td>' + p.in + '</td><td>' + (p.required ? 'yes' : '') + '</td><td><code>' + esc(JSON.stringify(p.schema)) + '</code></td></tr>';
          html += '</table>';
        }
        if (op.requestBody) html += '<h4>Body</h4>' + code(op.requestBody.content);
        html += '<h4>Responses</h4>';
        for (const [status, res] of Object.entries(op.responses)) {
          const r = res.$ref ? doc.components.responses[res.$ref.split('/').pop()] : res;
          html += '<p><b>' + esc(status) + '</b> ' + esc(r.description) + '</p>';
          if (r.content) html += code(Object.fromEntries(Object.entries(r.content).map(([m, c]) => [m, c.schema])));
        }
        html += '</details>';
      }
    }
  }
  html += '<h2>Schemas</h2>';
  for (const [name, schema] of Object.entries(doc.components.schemas)) html += '<details class="op" id="schema-' + name + '"><summary><code>' + esc(name) + '</code></summary>' + code(schema) + '</details>';
  main.innerHTML = html;
  const target = location.hash && document.querySelector(location.hash);
  if (target) { target.open = true; target.scrollIntoView(); }
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href^="#schema-"]');
    if (a) document.querySelector(a.getAttribute('href')).open = true;
  });
}).catch((err) => { main.textContent = 'Could not load ${OPENAPI_PATH}: ' + err; });
`;

const DOCS_STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; max-width: 70rem; margin: 1rem auto; padding: 0 1rem; color: #222; }
pre { background: #f5f5f5; padding: .5rem; overflow: auto; font-size: 13px; }
.op { border: 1px solid #ddd; border-radius: 4px; margin: .4rem 0; padding: .3rem .6rem; }
.op > summary { cursor: pointer; }
.m { display: inline-block; min-width: 4.2rem; font-weight: bold; font-family: monospace; }
.get { color: #1565c0; } .post { color: #2e7d32; } .delete { color: #c62828; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .2rem .4rem; text-align: left; font-size: 13px; }
`;

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>drive-import API</title>
<style>${DOCS_STYLE}</style>
</head>
<body>
<main id="main"><p>Loading <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>…</p></main>
<script>${DOCS_SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
/** Only this page's own inline script and style run; it fetches nothing but the document. */
const DOCS_CSP = `default-src 'none'; script-src ${sha256(DOCS_SCRIPT)}; style-src ${sha256(DOCS_STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * GET /api/openapi.json and GET /api/docs. Mount BEFORE the auth middleware of /api/*: both are
 * public on purpose (no token): they describe the API and hold no data.
 */
export function mountOpenApi(app: Hono<GatewayEnv>): void {
  const body = JSON.stringify(buildOpenApiDocument());
  app.get(OPENAPI_PATH, (c) => c.body(body, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' }));
  app.get(DOCS_PATH, (c) => c.body(DOCS_HTML, 200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_CSP, 'cache-control': 'public, max-age=300' }));
}
