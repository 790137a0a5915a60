// The OpenAPI document: valid OpenAPI 3.1, one operation for every route the gateway has (and none
// it lacks), its schemas those of the zod contracts, and it and its page public.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CreateImportRequest, JobListQuery, JobSummary } from '@drive-import/common';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument, DOCS_PATH, OPENAPI_PATH } from '../src/openapi.ts';
import { closedGateway } from './support.ts';

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument() as unknown as Json & { paths: Record<string, Record<string, Json>>; components: Record<'schemas' | 'responses' | 'securitySchemes', Record<string, Json>> };

/** Not API routes: bull-board's dashboard (a web UI of its own, admin only) and the page's static files. */
const IGNORED = [/^\/admin\/queues(\/|$)/];

test('the document is valid OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(structuredClone(doc));
  assert.deepEqual(result.errors, undefined);
  assert.equal(result.valid, true);
});

test('every $ref of the document resolves', () => {
  const refs: string[] = [];
  (function walk(v: unknown) {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
    }
  })(doc);
  assert.ok(refs.length > 20, `only ${refs.length} $refs`);
  for (const ref of new Set(refs)) {
    assert.match(ref, /^#\//, ref);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    assert.ok(target && typeof target === 'object', `${ref} does not resolve`);
  }
});

test('every route of the gateway is in the document, and every operation of the document is a route', async () => {
  const app = await closedGateway();
  const routes = new Set(
    app.routes
      .filter((r) => r.method !== 'ALL' && !IGNORED.some((re) => re.test(r.path)))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
  );
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)));
  assert.ok(routes.size >= 20, `only ${routes.size} routes found`);
  assert.deepEqual([...routes].filter((r) => !documented.has(r)), [], 'routes missing from the document (add them to ROUTES in gateway/src/openapi.ts)');
  assert.deepEqual([...documented].filter((r) => !routes.has(r)), [], 'documented operations the gateway does not have');
});

test('bearer auth everywhere but the public routes; 4xx/5xx in the error shape', () => {
  // Signing in and out is how a page gets its session: no token yet.
  const publicOps = new Set(['get /health', `get ${OPENAPI_PATH}`, `get ${DOCS_PATH}`, 'post /api/session', 'delete /api/session']);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const key = `${method} ${path}`;
      assert.deepEqual(op.security, publicOps.has(key) ? [] : [{ bearer: [] }], key);
      const responses = op.responses as Record<string, Json>;
      if (!publicOps.has(key)) assert.ok(responses['401'] && responses['429'], `${key} lacks 401/429`);
      if (path.includes('{')) assert.ok(responses['400'], `${key} lacks 400 for a bad path parameter`);
    }
  }
  assert.deepEqual(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes!.bearer!.description } });
  for (const r of Object.values(doc.components.responses)) {
    assert.deepEqual((r.content as Json)['application/json'], { schema: { $ref: '#/components/schemas/ErrorResponse' } });
  }
  const error = doc.components.schemas.ErrorResponse as { required: string[]; properties: { error: { required: string[] } } };
  assert.deepEqual(error.required, ['error']);
  assert.deepEqual(error.properties.error.required, ['code', 'message']);
  // A route's own 4xx/5xx bodies (DELETE /api/images/{id} answers its result) are named schemas too.
  const del = doc.paths['/api/images/{id}']!.delete!.responses as Record<string, Json>;
  assert.deepEqual(del['502'], { description: del['502']!.description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageDeleteResult' } } } });
});

test('the schemas are those of the zod contracts', () => {
  const schemas = doc.components.schemas as Record<string, { properties: Json; required?: string[]; additionalProperties?: unknown }>;
  // CreateImportRequest as accepted: folder_url required, the rest optional, nothing else allowed.
  const create = schemas.CreateImportRequest!;
  assert.deepEqual(Object.keys(create.properties).sort(), Object.keys(CreateImportRequest.shape).sort());
  const requiredOfShape = Object.entries(CreateImportRequest.shape)
    .filter(([, s]) => !s.safeParse(undefined).success)
    .map(([k]) => k);
  assert.deepEqual(create.required, requiredOfShape);
  assert.deepEqual(create.required, ['folder_url']);
  assert.equal(create.additionalProperties, false);
  assert.deepEqual((create.properties.destination as Json).enum, ['s3', 'azure', 'local']);
  // JobSummary as sent: every field always there.
  assert.deepEqual([...(schemas.JobSummary!.required ?? [])].sort(), Object.keys(JobSummary.shape).sort());
  // JobListResponse refers to JobSummary rather than repeating it.
  assert.deepEqual((schemas.JobListResponse!.properties.jobs as Json).items, { $ref: '#/components/schemas/JobSummary' });
  // The request body of the import route is that schema.
  const post = doc.paths['/api/import/google-drive']!.post!;
  assert.deepEqual(post.requestBody, { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateImportRequest' } } } });
  // Query parameters: one per field of the query contract, none required (each has a default or is optional).
  const params = doc.paths['/api/import/jobs']!.get!.parameters as Array<{ name: string; in: string; required: boolean; schema: Json }>;
  assert.deepEqual(params.map((p) => p.name).sort(), Object.keys(JobListQuery.shape).sort());
  assert.ok(params.every((p) => p.in === 'query' && !p.required));
  assert.deepEqual(params.find((p) => p.name === 'per_page')!.schema, { default: 50, type: 'integer', minimum: 1, maximum: 1000 });
  // A path parameter: the job id's contract (a UUID).
  const status = doc.paths['/api/import/status/{job_id}']!.get!.parameters as Array<{ name: string; in: string; schema: Json }>;
  assert.deepEqual(status.map((p) => [p.name, p.in, p.schema.format]), [['job_id', 'path', 'uuid']]);
  // Per-import thumbnails and the camera fields and filter come from the contracts too.
  assert.deepEqual(create.properties.thumbnails, { type: 'boolean' });
  assert.ok(['camera_make', 'camera_model', 'thumbnail_url'].every((k) => k in schemas.ImageRecord!.properties));
  const imageParams = (doc.paths['/api/images']!.get!.parameters as Array<{ name: string }>).map((p) => p.name);
  assert.ok(imageParams.includes('camera') && imageParams.includes('q'));
  // Range on the object routes: the header, 206 and 416.
  for (const path of ['/api/images/{id}/content', '/api/images/{id}/thumbnail']) {
    const get = doc.paths[path]!.get! as { parameters: Array<{ name: string; in: string }>; responses: Record<string, unknown> };
    assert.ok(get.parameters.some((p) => p.name === 'Range' && p.in === 'header'), path);
    assert.ok(['200', '206', '416'].every((code) => code in get.responses), path);
  }
});

test('GET /api/openapi.json and GET /api/docs answer without a token; the rest of /api still needs one', async () => {
  const app = await closedGateway();
  const json = await app.request(OPENAPI_PATH);
  assert.equal(json.status, 200);
  assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await json.json(), JSON.parse(JSON.stringify(doc)));

  const page = await app.request(DOCS_PATH);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.ok(html.includes(`fetch("${OPENAPI_PATH}")`), 'the page loads the document');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\//, 'the page loads nothing from elsewhere');
  // Its inline script is the one its CSP allows.
  const script = html.match(/<script>([\s\S]*)<\/script>/)![1]!;
  const hash = createHash('sha256').update(script).digest('base64');
  assert.ok(page.headers.get('content-security-policy')?.includes(`script-src 'sha256-${hash}'`));

  assert.equal((await app.request('/api/import/jobs')).status, 401);
  assert.equal((await app.request('/api/openapi.jsonx')).status, 401);
});
