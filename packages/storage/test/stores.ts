/** One real store per provider for the contract suite: s3rver and Azurite as child processes, a temp dir. */
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig, storageEnv } from '@drive-import/common';
import { freePort, startAzurite, startS3Server, tempDir, uniqueName } from '@drive-import/testing';
import { createStorageDriver, type StorageConfig, type StorageDriver, type StorageProvider, urlSigningKey, verifyReadUrl } from '../src/index.ts';

/** What the storage-service signs local read URLs with (INTERNAL_TOKEN in a deployment). */
export const URL_SIGNING_SECRET = 'test-url-signing-secret-0123456789abcdef';

export interface StoreHarness {
  provider: StorageProvider;
  /** The env the config was parsed from (to build variants: another prefix, a SAS connection string). */
  env: Record<string, string>;
  config: StorageConfig;
  driver: StorageDriver;
  /** Configs whose check() must fail, with the words the error must contain. */
  broken: Array<{ label: string; config: StorageConfig; message: RegExp; retryable: boolean }>;
  /** A driver for an unreachable store: a key check that touched the store would fail differently. */
  unreachable: StorageDriver;
  stop(): Promise<void>;
}

export const storageConfig = (env: Record<string, string>): StorageConfig => loadConfig(storageEnv, { STORAGE_KEY_PREFIX: 'drive-import', ...env });

async function closedPort(): Promise<number> {
  return freePort(); // free a moment ago and nobody listens: connections are refused
}

/**
 * What local read URLs point at, in miniature: `GET /objects/<encoded key>?expires=&signature=` streams
 * the object when the signature is good, 403 otherwise (the storage-service's real route is tested in
 * storage-service/test/app.test.ts).
 */
async function serveObjects(driver: StorageDriver): Promise<{ url: string; close(): Promise<void> }> {
  const signingKey = urlSigningKey(URL_SIGNING_SECRET);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const key = path.startsWith('/objects/') ? decodeURIComponent(path.slice('/objects/'.length)) : null;
    if (key !== null && verifyReadUrl(signingKey, key, url.searchParams.get('expires') ?? undefined, url.searchParams.get('signature') ?? undefined) !== 'ok') {
      res.writeHead(403).end();
      return;
    }
    const found = key !== null ? driver.get(key) : Promise.resolve(null);
    found.then(
      (object) => {
        if (!object) return res.writeHead(404).end();
        res.writeHead(200, { 'content-type': object.info.contentType ?? 'application/octet-stream' });
        object.body.pipe(res);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startStore(provider: StorageProvider): Promise<StoreHarness> {
  if (provider === 's3') {
    const server = await startS3Server();
    const bucket = uniqueName('bucket');
    await server.createBucket(bucket);
    const env = {
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: bucket,
      S3_ENDPOINT: server.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_REGION: server.region,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    };
    const config = storageConfig(env);
    const deadEnv = { ...env, S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}` };
    const driver = createStorageDriver('s3', config);
    const unreachable = createStorageDriver('s3', storageConfig(deadEnv));
    return {
      provider,
      env,
      config,
      driver,
      unreachable,
      broken: [
        { label: 'missing bucket', config: storageConfig({ ...env, S3_BUCKET: 'no-such-bucket-here' }), message: /no-such-bucket-here.*(NoSuchBucket|does not exist)/s, retryable: false },
        { label: 'unreachable endpoint', config: storageConfig(deadEnv), message: /ECONNREFUSED/, retryable: true },
      ],
      stop: async () => {
        await Promise.all([driver.close(), unreachable.close()]);
        await server.stop();
      },
    };
  }
  if (provider === 'azure') {
    const azurite = await startAzurite();
    const env = { STORAGE_PROVIDER: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_CONTAINER_NAME: uniqueName('c') };
    const config = storageConfig(env);
    const dead = azurite.connectionString.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await closedPort()}`);
    const wrongKey = azurite.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not the key').toString('base64')}`);
    const driver = createStorageDriver('azure', config);
    const unreachable = createStorageDriver('azure', storageConfig({ ...env, AZURE_STORAGE_CONNECTION_STRING: dead }));
    return {
      provider,
      env,
      config,
      driver,
      unreachable,
      broken: [
        { label: 'wrong account key', config: storageConfig({ ...env, AZURE_STORAGE_CONNECTION_STRING: wrongKey }), message: /container .* at .*(403|authoriz|Authoriz)/s, retryable: false },
        { label: 'unreachable endpoint', config: storageConfig({ ...env, AZURE_STORAGE_CONNECTION_STRING: dead }), message: /ECONNREFUSED/, retryable: true },
      ],
      stop: () => azurite.stop(),
    };
  }
  const dir = await tempDir('local-store');
  const root = join(dir.path, 'objects');
  const env = { STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: root };
  const config = storageConfig(env);
  const server = await serveObjects(createStorageDriver('local', config));
  const notADir = join(dir.path, 'a-file');
  await writeFile(notADir, 'x');
  const driver = createStorageDriver('local', config, { localReadBaseUrl: server.url, urlSigningSecret: URL_SIGNING_SECRET });
  return {
    provider,
    env,
    config,
    driver,
    unreachable: createStorageDriver('local', storageConfig({ STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: join(notADir, 'objects') })),
    broken: [{ label: 'root under a file', config: storageConfig({ STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: join(notADir, 'objects') }), message: /ENOTDIR/, retryable: false }],
    stop: async () => {
      await server.close();
      await dir.cleanup();
    },
  };
}
