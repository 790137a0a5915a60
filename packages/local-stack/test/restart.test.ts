/**
 * The local stack's supervisor (what `npm start` runs on): a service that dies is started again on
 * its port while the others keep running; one that keeps dying is given up on, and the caller told.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { deletePrefix, tempDir, uniqueName } from '@drive-import/testing';
import { findOrStartRedis, type RestartPolicy, type ServiceName, startStack, waitFor } from '../src/index.ts';

test('a killed service is restarted on its port, others untouched; five crashes within the window give up', async () => {
  const dir = await tempDir('stack-restart');
  const redis = await findOrStartRedis();
  const prefix = uniqueName('restart');
  const restarts: Array<{ name: ServiceName; crashes: number; signal: string | null }> = [];
  const gaveUp: Array<{ name: ServiceName; crashes: number }> = [];
  const policy: RestartPolicy = {
    baseDelayMs: 50,
    maxDelayMs: 200,
    maxCrashes: 3,
    windowMs: 60_000,
    onRestart: (name, info) => restarts.push({ name, crashes: info.crashes, signal: info.signal }),
    onGiveUp: (name, info) => gaveUp.push({ name, crashes: info.crashes }),
  };
  const stack = await startStack({
    env: { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, DATABASE_URL: `file:${join(dir.path, 'db.sqlite')}`, LOCAL_STORAGE_DIR: join(dir.path, 'objects'), LOG_LEVEL: 'silent' },
    services: ['metadata-service', 'storage-service'],
    freePorts: true,
    stdio: 'ignore',
    restart: policy,
  });
  try {
    const [metadata, storage] = stack.processes;
    const storagePid = storage!.child.pid;
    const healthyWith = (pid: number | undefined) =>
      waitFor(`metadata-service back with a new process`, async () => metadata!.child.pid !== pid && (await fetch(`${metadata!.url}/health`).catch(() => null))?.ok === true, 90_000, 100);

    for (let crash = 1; crash < policy.maxCrashes; crash++) {
      const pid = metadata!.child.pid;
      metadata!.child.kill('SIGKILL');
      await healthyWith(pid);
      assert.deepEqual(restarts.at(-1), { name: 'metadata-service', crashes: crash, signal: 'SIGKILL' });
    }
    assert.equal(storage!.child.pid, storagePid, 'the other service kept running');
    assert.ok((await fetch(`${storage!.url}/health`)).ok);

    // The third crash within the window: left down, and the caller told.
    const exited = new Promise((resolve) => metadata!.child.once('exit', resolve));
    metadata!.child.kill('SIGKILL');
    await exited;
    await waitFor('the supervisor to give up', async () => gaveUp.length > 0, 10_000, 20);
    assert.deepEqual(gaveUp, [{ name: 'metadata-service', crashes: 3 }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(restarts.length, 2, 'no restart after giving up');
    assert.notEqual(metadata!.child.exitCode ?? metadata!.child.signalCode, null, 'still down');
  } finally {
    await stack.stop();
    await deletePrefix(redis.url, prefix);
    await redis.stop();
    await dir.cleanup();
  }
});
