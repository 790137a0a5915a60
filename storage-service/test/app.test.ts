/** The object routes over real drivers (a temp dir and s3rver), through app.request() and real servers. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConfigError, createLogger, JobSummary, type StoredObjectResponse } from '@drive-import/common';
import { startMetadataService } from '@drive-import/metadata-service';
import { createStorageDriver, encodeKeyPath, readUrlSignature, type StorageDriver, type StorageProvider, urlSigningKey } from '@drive-import/storage';
import { deletePrefix, findOrStartRedis, freePort, startS3Server, TEST_INTERNAL_TOKEN, tempDir, uniqueName, type S3ServerHandle } from '@drive-import/testing';
import { createStorageApp, loadStorageServiceConfig, startStorageService, type StoredObjectCatalog } from '../src/index.ts';

const log = createLogger('storage-service-test', 'silent');
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');
const put = (driver: StorageDriver, key: string, data: Buffer, contentType = 'image/png') =>
  driver.put({ key, body: Readable.from([data], { objectMode: false }), size: data.length, md5: md5(data), contentType });
const AUTH = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
const exists = (path: string) => access(path).then(() => true, () => false);
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

/** The catalog as a set of `provider key` entries (the real metadata-service route is used further down). */
function setCatalog() {
  const known = new Set<string>();
  let down = false;
  const catalog: StoredObjectCatalog = {
    async find(destination, key) {
      if (down) throw new Error('metadata-service is unreachable');
      return known.has(`${destination} ${key}`) ? ({ destination, key, md5: null, size: null, job_id: 'j', drive_id: 'd' } satisfies StoredObjectResponse) : null;
    },
  };
  return { catalog, add: (p: StorageProvider, key: string) => known.add(`${p} ${key}`), setDown: (v: boolean) => (down = v) };
}

describe('storage-service routes', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let s3: S3ServerHandle;
  let local: StorageDriver;
  let s3Driver: StorageDriver;
  let app: ReturnType<typeof createStorageApp>;
  let cat: ReturnType<typeof setCatalog>;
  const base = 'http://storage.test';
  const request = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } });

  before(async () => {
    dir = await tempDir('storage-app');
    s3 = await startS3Server({ bucket: uniqueName('app-bucket') });
    const env = { INTERNAL_TOKEN: TEST_INTERNAL_TOKEN };
    local = createStorageDriver('local', loadStorageServiceConfig({ ...env, LOCAL_STORAGE_DIR: join(dir.path, 'objects') }), { localReadBaseUrl: base, urlSigningSecret: TEST_INTERNAL_TOKEN });
    s3Driver = createStorageDriver(
      's3',
      loadStorageServiceConfig({
        ...env,
        S3_BUCKET: s3.bucket!,
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      }),
    );
    cat = setCatalog();
    app = createStorageApp({ log, defaultProvider: 'local', drivers: { local, s3: s3Driver }, catalog: cat.catalog, keyPrefix: 'drive-import', internalToken: TEST_INTERNAL_TOKEN });
  });
  after(async () => {
    await s3Driver?.close();
    await s3?.stop();
    await dir?.cleanup();
  });

  it('GET streams the object with its content type, length and md5; HEAD sends only the headers', async () => {
    const data = Buffer.from('\x89PNG fake image bytes '.repeat(5000), 'latin1');
    const key = 'drive-import/root/😀 smile #1.png';
    await put(local, key, data);
    const res = await request(`/objects/${encodeKeyPath(key)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.equal(res.headers.get('x-content-md5'), md5(data));
    assert.equal(res.headers.get('etag'), `"${md5(data)}"`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);

    const head = await request(`/objects/${encodeKeyPath(key)}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('serves raster images inline and everything else (SVG included) as an attachment, always with nosniff and a sandboxing CSP', async () => {
    const cases: Array<[string, string, string, RegExp]> = [
      ['drive-import/c/photo.jpg', 'image/jpeg', 'image/jpeg', /^inline$/],
      ['drive-import/c/photo.heic', 'image/HEIC', 'image/heic', /^inline$/],
      ['drive-import/c/anim.webp', 'image/webp; charset=binary', 'image/webp', /^inline$/],
      ['drive-import/c/scan.tiff', 'image/tiff', 'image/tiff', /^inline$/],
      ['drive-import/c/logo.svg', 'image/svg+xml', 'image/svg+xml', /^attachment; filename="logo\.svg"; filename\*=UTF-8''logo\.svg$/],
      ['drive-import/c/page.html', 'text/html', 'text/html', /^attachment; filename="page\.html"/],
      ['drive-import/c/odd "name"; x=1 ç.png', 'text/html', 'text/html', /^attachment; filename="odd _name__ x=1 _\.png"; filename\*=UTF-8''odd%20%22name%22%3B%20x%3D1%20%C3%A7\.png$/],
      ['drive-import/c/bad-type.jpg', 'image/jpeg\r\nx-evil: 1', 'application/octet-stream', /^attachment; filename="bad-type\.jpg"/],
    ];
    for (const [key, stored, served, disposition] of cases) {
      await put(local, key, Buffer.from('<svg onload="alert(1)"/>'), stored);
      for (const method of ['GET', 'HEAD']) {
        const res = await request(`/objects/${encodeKeyPath(key)}`, { method });
        assert.equal(res.status, 200, `${method} ${key}`);
        assert.equal(res.headers.get('content-type'), served, key);
        assert.match(res.headers.get('content-disposition') ?? '', disposition, key);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; sandbox");
        await res.arrayBuffer();
      }
    }
    // Errors on content routes carry the same headers.
    const missing = await request('/objects/drive-import/c/none.svg');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
  });

  it('a missing object is a 404 in the error shape, for GET and HEAD', async () => {
    const res = await request('/objects/drive-import/none.png');
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'object_not_found');
    assert.match(body.error.message, /drive-import\/none\.png/);
    assert.equal((await request('/objects/drive-import/none.png', { method: 'HEAD' })).status, 404);
  });

  it('an unsafe key is a 400 and never reaches a store', async () => {
    for (const path of ['/objects/a%2F..%2F..%2Fb', '/objects/%2Fetc%2Fpasswd', '/objects/a%00b', '/objects/%E0%A4%A', '/objects-url/a%2F..%2Fb']) {
      const res = await request(path);
      assert.equal(res.status, 400, path);
      assert.equal(await errorCode(res), 'invalid_key', path);
    }
    assert.equal((await request('/objects/a%2F..%2Fb', { method: 'DELETE' })).status, 400);
  });

  it('a key outside STORAGE_KEY_PREFIX is a 403 on every route, segment-wise', async () => {
    await put(createStorageDriver('local', loadStorageServiceConfig({ INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, LOCAL_STORAGE_DIR: join(dir.path, 'objects'), STORAGE_KEY_PREFIX: '/' })), 'drive-importX/secret.png', Buffer.from('x'));
    for (const key of ['drive-importX/secret.png', 'other/a.png', 'drive-import']) {
      for (const [path, method] of [[`/objects/${key}`, 'GET'], [`/objects/${key}`, 'HEAD'], [`/objects/${key}`, 'DELETE'], [`/objects-url/${key}`, 'GET'], [`/objects/${key}?provider=s3`, 'GET']] as const) {
        const res = await request(path, { method });
        assert.equal(res.status, 403, `${method} ${path}`);
        if (method !== 'HEAD') assert.equal(await errorCode(res), 'key_outside_prefix', `${method} ${path}`);
      }
    }
    assert.equal(await exists(join(dir.path, 'objects', 'drive-importX', 'secret.png')), true);
  });

  it('DELETE removes a key the catalog knows, and is idempotent', async () => {
    const key = 'drive-import/root/delete-me.jpg';
    await put(local, key, Buffer.from('bye'));
    cat.add('local', key);
    const first = await request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { key, deleted: true });
    assert.equal(await local.head(key), null);
    assert.equal((await request(`/objects/${encodeKeyPath(key)}`)).status, 404);
    const again = await request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
    assert.deepEqual(await again.json(), { key, deleted: false });
  });

  it('DELETE of a key the catalog does not know (for that store) is 404 object_not_in_catalog, and deletes nothing', async () => {
    const key = 'drive-import/root/not-catalogued.jpg';
    await put(local, key, Buffer.from('stay'));
    await put(s3Driver, key, Buffer.from('stay in s3'));
    cat.add('s3', key);
    const res = await request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'object_not_in_catalog');
    assert.equal((await local.head(key))?.size, 4);
    // Known in s3, so ?provider=s3 deletes there (and only there).
    const s3Res = await request(`/objects/${encodeKeyPath(key)}?provider=s3`, { method: 'DELETE' });
    assert.deepEqual(await s3Res.json(), { key, deleted: true });
    assert.equal((await local.head(key))?.size, 4);
  });

  it('DELETE while the catalog cannot answer is 503, and deletes nothing', async () => {
    const key = 'drive-import/root/catalog-down.jpg';
    await put(local, key, Buffer.from('stay'));
    cat.add('local', key);
    cat.setDown(true);
    try {
      const res = await request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
      assert.equal(res.status, 503);
      assert.equal(await errorCode(res), 'catalog_unavailable');
      assert.equal((await local.head(key))?.size, 4);
    } finally {
      cat.setDown(false);
    }
  });

  it('?provider= addresses another configured store; unknown or unconfigured ones are 400; presigned URLs live 15 minutes by default', async () => {
    const data = Buffer.from('in s3 only');
    const key = 'drive-import/root/s3-only.txt';
    await put(s3Driver, key, data, 'text/plain');
    assert.equal((await request(`/objects/${encodeKeyPath(key)}`)).status, 404);
    const res = await request(`/objects/${encodeKeyPath(key)}?provider=s3`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'in s3 only');

    const urlRes = await request(`/objects-url/${encodeKeyPath(key)}?provider=s3&ttl=60`);
    const { url } = (await urlRes.json()) as { url: string };
    assert.match(url, /X-Amz-Expires=60/);
    assert.equal(await (await fetch(url)).text(), 'in s3 only');
    const byDefault = (await (await request(`/objects-url/${encodeKeyPath(key)}?provider=s3`)).json()) as { url: string };
    assert.match(byDefault.url, /X-Amz-Expires=900(&|$)/);

    const azure = await request(`/objects/${encodeKeyPath(key)}?provider=azure`);
    assert.equal(azure.status, 400);
    assert.equal(await errorCode(azure), 'provider_not_configured');
    assert.equal((await request(`/objects/${encodeKeyPath(key)}?provider=ftp`)).status, 400);
    assert.equal((await request(`/objects-url/${encodeKeyPath(key)}?provider=s3&ttl=0`)).status, 400);
  });

  it('GET /objects-url gives a signed local read URL, good for 15 minutes', async () => {
    const key = 'drive-import/root/a b/ç.jpg';
    const before = Math.floor(Date.now() / 1000);
    const res = await request(`/objects-url/${encodeKeyPath(key)}`);
    assert.equal(res.status, 200);
    const url = new URL(((await res.json()) as { url: string }).url);
    assert.equal(`${url.origin}${url.pathname}`, `${base}/objects/drive-import/root/a%20b/%C3%A7.jpg`);
    const expires = Number(url.searchParams.get('expires'));
    assert.ok(expires >= before + 899 && expires <= before + 901, `expires ${expires - before} s from now`);
    assert.equal(url.searchParams.get('signature'), readUrlSignature(urlSigningKey(TEST_INTERNAL_TOKEN), key, expires));
  });

  it('every route but GET /health needs the internal token; GET/HEAD /objects/* also take a valid, unexpired signature', async () => {
    const key = 'drive-import/signed/pic.png';
    await put(local, key, Buffer.from('signed bytes'));
    const signed = new URL(((await (await request(`/objects-url/${encodeKeyPath(key)}`)).json()) as { url: string }).url);
    const path = `${signed.pathname}${signed.search}`;

    const ok = await app.request(path);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'signed bytes');
    assert.equal((await app.request(path, { method: 'HEAD' })).status, 200);

    const sig = signed.searchParams.get('signature')!;
    const exp = signed.searchParams.get('expires')!;
    const tampered = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    const past = Math.floor(Date.now() / 1000) - 10;
    const pastSig = readUrlSignature(urlSigningKey(TEST_INTERNAL_TOKEN), key, past);
    const refused: Array<[string, RequestInit, number, string]> = [
      [`${signed.pathname}?expires=${exp}&signature=${tampered}`, {}, 403, 'invalid_signature'],
      [`${signed.pathname}?expires=${Number(exp) + 1}&signature=${sig}`, {}, 403, 'invalid_signature'],
      [`/objects/drive-import/signed/other.png?expires=${exp}&signature=${sig}`, {}, 403, 'invalid_signature'],
      [`${signed.pathname}?expires=${past}&signature=${pastSig}`, {}, 403, 'url_expired'],
      [`${signed.pathname}?expires=${exp}`, {}, 403, 'invalid_signature'],
      [`${path}&provider=s3`, {}, 403, 'invalid_signature'],
      [signed.pathname, {}, 401, 'unauthorized'],
      [path, { method: 'DELETE' }, 401, 'unauthorized'],
      [path, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-token-00' } }, 401, 'unauthorized'],
      [`/objects-url/${encodeKeyPath(key)}`, {}, 401, 'unauthorized'],
      [`/objects-url/${encodeKeyPath(key)}?expires=${exp}&signature=${sig}`, {}, 401, 'unauthorized'],
      ['/metrics', {}, 401, 'unauthorized'],
    ];
    for (const [p, init, status, code] of refused) {
      const res = await app.request(p, init);
      assert.equal(res.status, status, `${init.method ?? 'GET'} ${p}`);
      assert.equal(await errorCode(res), code, `${init.method ?? 'GET'} ${p}`);
    }
    assert.equal((await local.head(key))?.size, 12, 'nothing was deleted');
    assert.equal((await app.request('/health')).status, 200);
    assert.equal((await request('/metrics')).status, 200);
  });

  it('health is 200 when the store is writable and 503 with the reason when it is not', async () => {
    const ok = await app.request('/health');
    assert.equal(ok.status, 200);
    const okBody = (await ok.json()) as { status: string; service: string; checks: Record<string, string> };
    assert.equal(okBody.status, 'ok');
    assert.equal(okBody.service, 'storage-service');
    assert.deepEqual(okBody.checks, { store_local: 'ok' });

    const file = join(dir.path, 'not-a-dir');
    await writeFile(file, 'x');
    const broken = createStorageDriver('local', loadStorageServiceConfig({ INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, LOCAL_STORAGE_DIR: join(file, 'objects') }));
    const brokenApp = createStorageApp({ log, defaultProvider: 'local', drivers: { local: broken }, catalog: cat.catalog });
    const bad = await brokenApp.request('/health');
    assert.equal(bad.status, 503);
    const badBody = (await bad.json()) as { status: string; checks: Record<string, string> };
    assert.equal(badBody.status, 'degraded');
    assert.match(badBody.checks.store_local ?? '', /local store not writable.*ENOTDIR/);
  });
});

describe('startStorageService', () => {
  it('serves objects over HTTP; its local read URLs work without a token', async () => {
    const dir = await tempDir('storage-service');
    const config = loadStorageServiceConfig({ LOG_LEVEL: 'silent', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: dir.path, STORAGE_SERVICE_PORT: '0' });
    assert.equal(config.STORAGE_HEALTH_INTERVAL_MS, 30_000);
    const service = await startStorageService(config, { port: 0 });
    try {
      const data = Buffer.from('served over http');
      const local = createStorageDriver('local', config);
      await put(local, 'drive-import/x/served.txt', data, 'text/plain');
      assert.equal((await fetch(`${service.url}/objects/drive-import/x/served.txt`)).status, 401);
      const { url } = (await (await fetch(`${service.url}/objects-url/drive-import/x/served.txt`, { headers: AUTH })).json()) as { url: string };
      assert.ok(url.startsWith(service.url), url);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain');
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="served\.txt"/);
      assert.equal(await res.text(), 'served over http');
      assert.equal((await fetch(`${service.url}/health`)).status, 200);
    } finally {
      await service.close();
      await dir.cleanup();
    }
  });

  it('DELETE asks the real metadata-service: a stored object goes, anything else stays; the metadata-service down is 503', async () => {
    const dir = await tempDir('storage-catalog');
    const redis = await findOrStartRedis();
    const queuePrefix = uniqueName('storage-cat');
    const metadataPort = await freePort();
    const log = createLogger('storage-catalog-test', 'silent');
    const metadata = await startMetadataService({ databaseUrl: `file:${join(dir.path, 'meta.db')}`, port: metadataPort, log, redisUrl: redis.url, queuePrefix, internalToken: TEST_INTERNAL_TOKEN });
    let metadataUp = true;
    const config = loadStorageServiceConfig({
      LOG_LEVEL: 'silent',
      INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
      STORAGE_PROVIDER: 'local',
      LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
      METADATA_SERVICE_URL: metadata.url,
    });
    const service = await startStorageService(config, { port: 0, log });
    const call = (method: string, url: string, body?: unknown) =>
      fetch(url, { method, headers: { ...AUTH, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    try {
      const job = JobSummary.parse(await (await call('POST', `${metadata.url}/jobs`, { folder_id: 'folderAbcdefghij', folder_name: 'x', destination: 'local', batch_size: 10 })).json());
      const listed = (n: number) => ({
        drive_id: `file${n}abcdefghij`,
        name: `f${n}.jpg`,
        folder_path: '',
        mime_type: 'image/jpeg',
        size: 3,
        md5: md5(`f${n}`),
        modified_time: '2024-05-01T10:00:00.000Z',
        width: null,
        height: null,
        taken_at: null,
        storage_key: `drive-import/folderAbcdefghij/ç é/f${n} #1.jpg`,
      });
      const [storedFile, failedFile] = [listed(1), listed(2)];
      assert.equal((await call('POST', `${metadata.url}/jobs/${job.job_id}/files`, { files: [storedFile, failedFile] })).status, 200);
      assert.equal((await call('POST', `${metadata.url}/jobs/${job.job_id}/listing-complete`)).status, 200);
      const results = await call('POST', `${metadata.url}/batches/${job.job_id}-b0/results`, {
        job_id: job.job_id,
        results: [
          { drive_id: storedFile.drive_id, status: 'stored', bytes: 3, md5: storedFile.md5, attempts: 1 },
          { drive_id: failedFile.drive_id, status: 'failed', error: 'HTTP 500', attempts: 5 },
        ],
      });
      assert.equal(results.status, 200, await results.clone().text());
      const local = createStorageDriver('local', config);
      for (const f of [storedFile, failedFile]) await put(local, f.storage_key, Buffer.from(`f${f.drive_id.slice(4, 5)}`), 'image/jpeg');

      const gone = await call('DELETE', `${service.url}/objects/${encodeKeyPath(storedFile.storage_key)}`);
      assert.equal(gone.status, 200);
      assert.deepEqual(await gone.json(), { key: storedFile.storage_key, deleted: true });
      assert.equal(await local.head(storedFile.storage_key), null);

      const unknown = await call('DELETE', `${service.url}/objects/${encodeKeyPath(failedFile.storage_key)}`);
      assert.equal(unknown.status, 404);
      assert.equal(await errorCode(unknown), 'object_not_in_catalog');
      assert.equal((await local.head(failedFile.storage_key))?.size, 2);

      await metadata.close();
      metadataUp = false;
      const down = await call('DELETE', `${service.url}/objects/${encodeKeyPath(failedFile.storage_key)}`);
      assert.equal(down.status, 503);
      assert.equal(await errorCode(down), 'catalog_unavailable');
      assert.equal((await local.head(failedFile.storage_key))?.size, 2);
    } finally {
      await service.close();
      if (metadataUp) await metadata.close();
      await deletePrefix(redis.url, queuePrefix);
      await redis.stop();
      await dir.cleanup();
    }
  });

  it('refuses to start for a default provider that is not configured, naming the variable', async () => {
    const config = loadStorageServiceConfig({ LOG_LEVEL: 'silent', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, STORAGE_PROVIDER: 's3' });
    await assert.rejects(startStorageService(config, { port: 0 }), (err: Error) => err instanceof ConfigError && /S3_BUCKET/.test(err.message));
    const azure = loadStorageServiceConfig({ LOG_LEVEL: 'silent', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, STORAGE_PROVIDER: 'azure' });
    await assert.rejects(startStorageService(azure, { port: 0 }), /AZURE_STORAGE_CONNECTION_STRING/);
  });
});
