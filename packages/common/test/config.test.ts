import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, redisEnv, storageEnv, withLegacyDatabaseEnv, workerEnv } from '../src/index.ts';

test('loadConfig applies defaults and treats blank values as unset', () => {
  const cfg = loadConfig({ ...redisEnv, ...workerEnv }, { REDIS_URL: '', WORKER_CONCURRENCY: '8' });
  assert.equal(cfg.REDIS_URL, 'redis://127.0.0.1:6379');
  assert.equal(cfg.WORKER_CONCURRENCY, 8);
});

test('loadConfig names every bad variable', () => {
  assert.throws(
    () => loadConfig({ ...redisEnv, ...workerEnv, ...storageEnv }, { REDIS_URL: 'http://x', WORKER_CONCURRENCY: 'lots', S3_FORCE_PATH_STYLE: 'maybe' }),
    (err: unknown) =>
      err instanceof ConfigError && /REDIS_URL/.test(err.message) && /WORKER_CONCURRENCY/.test(err.message) && /S3_FORCE_PATH_STYLE/.test(err.message),
  );
});

test('the older system\'s DB_SERVER, DB_NAME, DB_USER, DB_PASSWORD become DATABASE_URL (Azure SQL, encrypted)', () => {
  const legacy = { DB_SERVER: 'contoso.database.windows.net', DB_NAME: 'photos', DB_USER: 'importer', DB_PASSWORD: 'p;a=ss word' };
  assert.equal(
    withLegacyDatabaseEnv(legacy).DATABASE_URL,
    'sqlserver://contoso.database.windows.net:1433;database={photos};user={importer};password={p;a=ss word};encrypt=true;trustServerCertificate=false',
  );
  assert.match(withLegacyDatabaseEnv({ ...legacy, DB_PORT: '14330', DB_SERVER: 'tcp:db.example,1433' }).DATABASE_URL!, /^sqlserver:\/\/db\.example:14330;/);
  assert.equal(withLegacyDatabaseEnv({ ...legacy, DATABASE_URL: 'file:./x.db' }).DATABASE_URL, 'file:./x.db', 'DATABASE_URL wins');
  assert.equal(withLegacyDatabaseEnv({}).DATABASE_URL, undefined);
  assert.throws(() => withLegacyDatabaseEnv({ DB_SERVER: 'x' }), /DB_NAME, DB_USER, DB_PASSWORD/);
  assert.throws(() => withLegacyDatabaseEnv({ ...legacy, DB_PASSWORD: 'a}b' }), /DB_PASSWORD contains/);
});
