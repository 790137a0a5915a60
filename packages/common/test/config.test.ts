import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, redisEnv, storageEnv, workerEnv } from '../src/index.ts';

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
