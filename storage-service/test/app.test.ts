/** The object routes over real drivers (a temp dir and s3rver), through app.request() and one real server. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConfigError, createLogger } from '@drive-import/common';
import { createStorageDriver, encodeKeyPath, type StorageDriver } from '@drive-import/storage';
import { startS3Server, tempDir, uniqueName, type S3ServerHandle } from '@drive-import/testing';
import { createStorageApp, loadStorageServiceConfig, startStorageService } from '../src/index.ts';

const log = createLogger('storage-service-test', 'silent');
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const put = (driver: StorageDriver, key: string, data: Buffer, contentType = 'image/png') =>
  driver.put({ key, body: Readable.from([data], { objectMode: false }), size: data.length, md5: md5(data), contentType });

describe('storage-service routes', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let s3: S3ServerHandle;
  let local: StorageDriver;
  let s3Driver: StorageDriver;
  let app: ReturnType<typeof createStorageApp>;
  const base = 'http://storage.test';

  before(async () => {
    dir = await tempDir('storage-app');
    s3 = await startS3Server({ bucket: uniqueName('app-bucket') });
    local = createStorageDriver('local', loadStorageServiceConfig({ LOCAL_STORAGE_DIR: join(dir.path, 'objects') }), { localReadBaseUrl: base });
    s3Driver = createStorageDriver(
      's3',
      loadStorageServiceConfig({
        S3_BUCKET: s3.bucket!,
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      }),
    );
    app = createStorageApp({ log, defaultProvider: 'local', drivers: { local, s3: s3Driver } });
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
    const res = await app.request(`/objects/${encodeKeyPath(key)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.equal(res.headers.get('x-content-md5'), md5(data));
    assert.equal(res.headers.get('etag'), `"${md5(data)}"`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);

    const head = await app.request(`/objects/${encodeKeyPath(key)}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('a missing object is a 404 in the error shape, for GET and HEAD', async () => {
    const res = await app.request('/objects/drive-import/none.png');
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'object_not_found');
    assert.match(body.error.message, /drive-import\/none\.png/);
    assert.equal((await app.request('/objects/drive-import/none.png', { method: 'HEAD' })).status, 404);
  });

  it('an unsafe key is a 400 and never reaches a store', async () => {
    for (const path of ['/objects/a%2F..%2F..%2Fb', '/objects/%2Fetc%2Fpasswd', '/objects/a%00b', '/objects/%E0%A4%A', '/objects-url/a%2F..%2Fb']) {
      const res = await app.request(path);
      assert.equal(res.status, 400, path);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'invalid_key', path);
    }
    assert.equal((await app.request('/objects/a%2F..%2Fb', { method: 'DELETE' })).status, 400);
  });

  it('DELETE removes the object and is idempotent', async () => {
    const key = 'drive-import/root/delete-me.jpg';
    await put(local, key, Buffer.from('bye'));
    const first = await app.request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { key, deleted: true });
    assert.equal(await local.head(key), null);
    assert.equal((await app.request(`/objects/${encodeKeyPath(key)}`)).status, 404);
    const again = await app.request(`/objects/${encodeKeyPath(key)}`, { method: 'DELETE' });
    assert.deepEqual(await again.json(), { key, deleted: false });
  });

  it('?provider= addresses another configured store; unknown or unconfigured ones are 400', async () => {
    const data = Buffer.from('in s3 only');
    const key = 'drive-import/root/s3-only.txt';
    await put(s3Driver, key, data, 'text/plain');
    assert.equal((await app.request(`/objects/${encodeKeyPath(key)}`)).status, 404);
    const res = await app.request(`/objects/${encodeKeyPath(key)}?provider=s3`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'in s3 only');

    const urlRes = await app.request(`/objects-url/${encodeKeyPath(key)}?provider=s3&ttl=60`);
    const { url } = (await urlRes.json()) as { url: string };
    assert.match(url, /X-Amz-Expires=60/);
    assert.equal(await (await fetch(url)).text(), 'in s3 only');

    const azure = await app.request(`/objects/${encodeKeyPath(key)}?provider=azure`);
    assert.equal(azure.status, 400);
    assert.equal(((await azure.json()) as { error: { code: string } }).error.code, 'provider_not_configured');
    assert.equal((await app.request(`/objects/${encodeKeyPath(key)}?provider=ftp`)).status, 400);
    assert.equal((await app.request(`/objects-url/${encodeKeyPath(key)}?provider=s3&ttl=0`)).status, 400);
  });

  it('GET /objects-url gives the local read route for local objects', async () => {
    const key = 'drive-import/root/a b/ç.jpg';
    const res = await app.request(`/objects-url/${encodeKeyPath(key)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: `${base}/objects/drive-import/root/a%20b/%C3%A7.jpg` });
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
    const broken = createStorageDriver('local', loadStorageServiceConfig({ LOCAL_STORAGE_DIR: join(file, 'objects') }));
    const brokenApp = createStorageApp({ log, defaultProvider: 'local', drivers: { local: broken } });
    const bad = await brokenApp.request('/health');
    assert.equal(bad.status, 503);
    const badBody = (await bad.json()) as { status: string; checks: Record<string, string> };
    assert.equal(badBody.status, 'degraded');
    assert.match(badBody.checks.store_local ?? '', /local store not writable.*ENOTDIR/);
  });
});

describe('startStorageService', () => {
  it('serves objects over HTTP and its local read URLs work', async () => {
    const dir = await tempDir('storage-service');
    const config = loadStorageServiceConfig({ LOG_LEVEL: 'silent', STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: dir.path, STORAGE_SERVICE_PORT: '0' });
    const service = await startStorageService(config, { port: 0 });
    try {
      const data = Buffer.from('served over http');
      const local = createStorageDriver('local', config);
      await put(local, 'drive-import/x/served.txt', data, 'text/plain');
      const { url } = (await (await fetch(`${service.url}/objects-url/drive-import/x/served.txt`)).json()) as { url: string };
      assert.ok(url.startsWith(service.url), url);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain');
      assert.equal(await res.text(), 'served over http');
      assert.equal((await fetch(`${service.url}/health`)).status, 200);
    } finally {
      await service.close();
      await dir.cleanup();
    }
  });

  it('refuses to start for a default provider that is not configured, naming the variable', async () => {
    const config = loadStorageServiceConfig({ LOG_LEVEL: 'silent', STORAGE_PROVIDER: 's3' });
    await assert.rejects(startStorageService(config, { port: 0 }), (err: Error) => err instanceof ConfigError && /S3_BUCKET/.test(err.message));
    const azure = loadStorageServiceConfig({ LOG_LEVEL: 'silent', STORAGE_PROVIDER: 'azure' });
    await assert.rejects(startStorageService(azure, { port: 0 }), /AZURE_STORAGE_CONNECTION_STRING/);
  });
});
