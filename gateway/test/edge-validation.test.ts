// Requests the gateway must refuse at the edge, before any service is asked: every one a 4xx in the
// error shape. The upstream URLs point at a closed port, so anything that leaked through would show
// as a 503 instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ADMIN_TOKEN, as, closedGateway } from './support.ts';

/** Every request here carries a valid token: what is refused is refused for its input. */
const gateway = async () => as(await closedGateway(), ADMIN_TOKEN);

async function expectError(res: Response, status: number, code: string | RegExp) {
  assert.equal(res.status, status, await res.clone().text());
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  if (typeof code === 'string') assert.equal(body.error.code, code);
  else assert.match(body.error.code, code);
  return body;
}

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  ({ method: 'POST', body, headers }) as RequestInit;

test('malformed JSON is a 400 invalid_json', async () => {
  const app = await gateway();
  await expectError(await app.request('/api/import/google-drive', post('{"folder_url": ')), 400, 'invalid_json');
});

test('missing, extra and wrongly typed fields are 400s naming the field', async () => {
  const app = await gateway();
  let body = await expectError(await app.request('/api/import/google-drive', post('{}')), 400, 'invalid_request');
  assert.match(body.error.message, /folder_url/);
  body = await expectError(
    await app.request('/api/import/google-drive', post(JSON.stringify({ folder_url: 'https://drive.google.com/drive/folders/abcdefghijk', admin: true }))),
    400,
    'invalid_request',
  );
  assert.match(body.error.message, /admin/);
  body = await expectError(await app.request('/api/import/google-drive', post(JSON.stringify({ folder_url: 42 }))), 400, 'invalid_request');
  assert.match(body.error.message, /folder_url/);
  body = await expectError(
    await app.request('/api/import/google-drive', post(JSON.stringify({ folder_url: 'https://drive.google.com/drive/folders/abcdefghijk', destination: 'ftp' }))),
    400,
    'invalid_request',
  );
  assert.match(body.error.message, /destination/);
  await expectError(await app.request('/api/import/google-drive', post('[1,2,3]')), 400, 'invalid_request');
});

test('a 1 MB body is a 413', async () => {
  const app = await gateway();
  const huge = JSON.stringify({ folder_url: 'x'.repeat(1024 * 1024) });
  await expectError(await app.request('/api/import/google-drive', post(huge)), 413, 'payload_too_large');
});

test('a bad job id and bad paging are 400s', async () => {
  const app = await gateway();
  await expectError(await app.request('/api/import/status/not-a-job'), 400, 'invalid_job_id');
  await expectError(await app.request('/api/import/status/%2e%2e%2f%2e%2e'), 400, 'invalid_job_id');
  for (const q of ['page=1', 'cursor=abc', 'cursor=1_../x', 'per_page=0', 'per_page=100000', 'per_page=1.5', 'bogus=1']) {
    await expectError(await app.request(`/api/import/jobs?${q}`), 400, 'invalid_request');
  }
  await expectError(
    await app.request('/api/import/jobs/6f1c1f4e-8a0b-4b5e-9a53-0d2b7c1e9f00/files?status=lost'),
    400,
    'invalid_request',
  );
});

test('unknown routes are 404s in the error shape; a down service is a 503, not a crash', async () => {
  const app = await gateway();
  await expectError(await app.request('/api/nope'), 404, 'not_found');
  await expectError(await app.request('/api/import/status/6f1c1f4e-8a0b-4b5e-9a53-0d2b7c1e9f00'), 503, 'upstream_unavailable');
  const health = await app.request('/health');
  assert.equal(health.status, 503);
  const body = (await health.json()) as { status: string; service: string; checks: Record<string, string> };
  assert.equal(body.status, 'degraded');
  assert.equal(body.service, 'gateway');
  assert.match(body.checks['metadata-service'] ?? '', /unreachable/);
});

test('responses carry a request id and secure headers', async () => {
  const app = await gateway();
  const res = await app.request('/api/import/status/x', { headers: { 'x-request-id': 'req-123' } });
  assert.equal(res.headers.get('x-request-id'), 'req-123');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
});

test('the web page is served at /', async () => {
  // The built app (frontend/dist), built here when missing or stale.
  execFileSync(process.execPath, [fileURLToPath(new URL('../../frontend/scripts/build-if-stale.mjs', import.meta.url))], { stdio: 'ignore' });
  const app = await gateway();
  const page = await app.request('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /drive-import/);
  const src = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
  assert.ok(src, 'the page loads its script');
  const script = await app.request(src);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /api\/import\/events/);
});
