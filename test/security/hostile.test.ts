// Generated hostile requests (fast-check) against every public route of a gateway that fronts a real
// import-service and metadata-service (Drive: the emulator). With or without a token, each must be
// answered with a 4xx in the error shape — never a 5xx, never a crash — and no server of ours may send
// a request anywhere but the configured Drive root and our own services.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ServiceClient } from '@drive-import/common';
import { createGatewayApp } from '@drive-import/gateway';
import { startImportService } from '@drive-import/import-service';
import { TEST_INTERNAL_TOKEN } from '@drive-import/testing';
import { ADMIN_TOKEN, ALICE, testAuth } from '../../gateway/test/support.ts';
import { startParts, testLog, type Parts } from '../../import-service/test/support.ts';

type App = ReturnType<typeof createGatewayApp>;

/** Every host:port a request was sent to from this process (fetch/undici and node:http). */
const contacted = new Set<string>();
const onUndici = (message: unknown) => {
  const { request } = message as { request: { origin: string | URL } };
  contacted.add(new URL(String(request.origin)).host);
};
const onHttp = (message: unknown) => {
  const { request } = message as { request: ClientRequest };
  // The Host header carries the port (the default port left out, as a URL's host does).
  contacted.add(String(request.getHeader('host') ?? request.host));
};

const UUID_LIKE = fc.uuid();
const HOSTILE_URLS = [
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  'https://evil.example/drive/folders/1AbCdEfGhIjKlMnOpQrStUv',
  'https://drive.google.com.evil.example/drive/folders/1AbCdEfGhIjKlMnOpQrStUv',
  'https://drive.google.com@evil.example/drive/folders/1AbCdEfGhIjKlMnOpQrStUv',
  'https://drive.gооgle.com/drive/folders/1AbCdEfGhIjKlMnOpQrStUv', // Cyrillic o
  'https://xn--drive-google-abc.com/drive/folders/1AbCdEfGhIjKlMnOpQrStUv',
  '//evil.example/drive/folders/1AbCdEfGhIjKlMnOpQrStUv',
  'https://drive.google.com/drive/folders/../../../etc/passwd',
  'https://drive.google.com/drive/folders/%2e%2e%2f%2e%2e',
  'https://drive.google.com/drive/folders/1AbC\u0000dEf',
  'https://drive.google.com/open?id=1AbCdEfGhIjKlMnOpQrStUv&redirect=https://evil.example',
  `https://drive.google.com/drive/folders/${'a'.repeat(5000)}`,
  ' ',
  '\u202e\u2066https://drive.google.com/drive/folders/x',
];

/** Strings that are no Drive folder: hostile URLs, arbitrary text, and Drive-shaped ids that do not exist. */
const folderUrl = fc.oneof(
  fc.constantFrom(...HOSTILE_URLS),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.stringMatching(/^[A-Za-z0-9_-]{10,60}$/).map((id) => `https://drive.google.com/drive/folders/${id}`),
  fc.stringMatching(/^[A-Za-z0-9_-]{10,60}$/),
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.record({ folder_url: folderUrl, destination: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) }, { requiredKeys: ['folder_url'] }).map((v) => JSON.stringify(v)),
  fc.record({ folder_url: folderUrl, admin: fc.boolean(), owner: fc.string() }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 500 }),
);

const token = fc.oneof(fc.constant(ADMIN_TOKEN), fc.constant(ALICE));
const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  fc.string({ maxLength: 100 }).map((s) => `Bearer ${s}`),
  fc.constantFrom('Bearer', 'Basic YWRtaW46YWRtaW4=', `bearer ${ADMIN_TOKEN.toUpperCase()}`, `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(1)}`, `Bearer  ${ADMIN_TOKEN}`),
);
const origin = fc.constantFrom('http://127.0.0.1', 'http://evil.example', 'http://[::1]:5000', 'http://localhost.evil.example:80');
const segment = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('..', '%2e%2e', '%00', '%ff', '%', '..%2f..%2fetc', 'not-a-uuid'), UUID_LIKE);
const query = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 })), { maxLength: 4 });
const route = fc.constantFrom('POST /api/import/google-drive', 'GET /api/import/status/:id', 'GET /api/import/jobs', 'GET /api/import/jobs/:id/files', 'GET /metrics', 'GET /admin/queues/api/queues');

const pathOf = (template: string, id: string) => template.replace(':id', encodeURIComponent(id).replace(/%25/g, '%'));

async function expect4xx(res: Response, what: string) {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${await res.clone().text().catch(() => '')}`);
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof body.error?.code, 'string', what);
  assert.equal(typeof body.error?.message, 'string', what);
}

describe('hostile requests to the public routes', () => {
  let parts: Parts;
  let importService: Awaited<ReturnType<typeof startImportService>>;
  let app: App;
  let allowed: Set<string>;
  let runs = 0;

  before(async () => {
    parts = await startParts({ files: 5, depth: 0, seed: 3, imageBytes: 100 });
    importService = await startImportService(parts.config(), { port: 0, log: testLog, listingWorker: false });
    const internal = { token: TEST_INTERNAL_TOKEN };
    app = createGatewayApp({
      log: testLog,
      importService: new ServiceClient('import-service', importService.url, internal),
      metadataService: new ServiceClient('metadata-service', parts.metadataService.url, internal),
      storageService: new ServiceClient('storage-service', 'http://127.0.0.1:9', internal),
      auth: testAuth(),
    });
    allowed = new Set([new URL(importService.url).host, new URL(parts.metadataService.url).host, new URL(parts.emulator.url).host]);
    diagnostics.subscribe('undici:request:create', onUndici);
    diagnostics.subscribe('http.client.request.start', onHttp);
  });
  after(async () => {
    diagnostics.unsubscribe('undici:request:create', onUndici);
    diagnostics.unsubscribe('http.client.request.start', onHttp);
    await importService?.close();
    await parts?.close();
  });

  it('without a valid token: every API route answers 401 (or another 4xx), whatever else the request holds', async () => {
    await fc.assert(
      fc.asyncProperty(route, badAuthorization, origin, segment, query, jsonBody, async (r, authorization, host, id, q, body) => {
        runs++;
        const [method, template] = r.split(' ') as [string, string];
        const search = new URLSearchParams(q).toString();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (authorization !== undefined) headers.authorization = authorization;
        const res = await app.request(`${host}${pathOf(template, id)}${search ? `?${search}` : ''}`, { method, headers, ...(method === 'POST' ? { body } : {}) });
        await expect4xx(res, `${method} ${template} auth=${JSON.stringify(authorization)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('with a token: hostile folder URLs and bodies are 4xx, and nothing is fetched from any other host', async () => {
    await fc.assert(
      fc.asyncProperty(token, jsonBody, origin, async (t, body, host) => {
        runs++;
        const res = await app.request(`${host}/api/import/google-drive`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` } });
        await expect4xx(res, `POST ${body.slice(0, 200)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('with a token: hostile path params and query strings are 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('/api/import/status/:id', '/api/import/jobs/:id/files', '/api/import/jobs'), segment, query, async (t, template, id, q) => {
        runs++;
        // At least one key the strict query schemas do not know, so no generated query is a valid one.
        const search = new URLSearchParams([...q, ['__hostile', id]]).toString();
        const res = await app.request(`${pathOf(template, id)}?${search}`, { headers: { authorization: `Bearer ${t}` } });
        await expect4xx(res, `${template} ${id} ?${search}`);
      }),
      { numRuns: 300 },
    );
  });

  it('invalid UTF-8, 10 MB bodies, wrong content types and odd methods are 4xx', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const cases: Array<[string, RequestInit]> = [
      ['invalid UTF-8', { method: 'POST', body: Buffer.from([0x7b, 0x22, 0x66, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), headers: { ...auth, 'content-type': 'application/json' } }],
      ['10 MB JSON', { method: 'POST', body: JSON.stringify({ folder_url: 'x'.repeat(10 * 1024 * 1024) }), headers: { ...auth, 'content-type': 'application/json' } }],
      ['10 MB without a token', { method: 'POST', body: 'x'.repeat(10 * 1024 * 1024), headers: { 'content-type': 'application/json' } }],
      ['form body', { method: 'POST', body: 'folder_url=javascript:alert(1)', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } }],
      ['no content type', { method: 'POST', body: '{"folder_url":"x"}', headers: auth }],
      ['DELETE', { method: 'DELETE', headers: auth }],
      ['PUT', { method: 'PUT', body: '{}', headers: { ...auth, 'content-type': 'application/json' } }],
    ];
    for (const [what, init] of cases) {
      runs++;
      await expect4xx(await app.request('/api/import/google-drive', init), what);
    }
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2000 }), async (bytes) => {
        runs++;
        const res = await app.request('/api/import/google-drive', { method: 'POST', body: Buffer.from(bytes), headers: { ...auth, 'content-type': 'application/json' } });
        await expect4xx(res, 'random bytes');
      }),
      { numRuns: 100 },
    );
  });

  it('sent more than 1,000 requests, and our servers contacted only the Drive root and each other', () => {
    assert.ok(runs >= 1000, `${runs} requests`);
    // Drive-shaped ids got as far as Drive (a 404 there): the capture sees real calls.
    assert.ok(contacted.has(new URL(parts.emulator.url).host), `the Drive emulator was asked: ${[...contacted].join(', ')}`);
    assert.ok(contacted.has(new URL(importService.url).host), 'the import-service was asked');
    const others = [...contacted].filter((h) => !allowed.has(h));
    assert.deepEqual(others, [], `requests to ${others.join(', ')}`);
  });
});
