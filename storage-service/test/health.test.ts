/** The storage-service's /health writes a probe object at most once per TTL, never once per call. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@drive-import/common';
import { createStorageApp, type StorageAppDeps } from '../src/app.ts';

const log = createLogger('storage-health-test', 'silent');

/** A store whose check() is the write probe: put then delete, counted. */
function countingStore() {
  const counts = { writes: 0, deletes: 0 };
  const driver = {
    provider: 'local',
    async put() {
      counts.writes++;
      await new Promise((r) => setTimeout(r, 10));
    },
    async delete() {
      counts.deletes++;
      return true;
    },
    async check() {
      await this.put();
      await this.delete();
    },
  };
  return { counts, driver: driver as unknown as NonNullable<StorageAppDeps['drivers']['local']> };
}

test('200 concurrent /health calls: all 200, one probe write', async () => {
  const { counts, driver } = countingStore();
  const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: driver } });
  const answers = await Promise.all(Array.from({ length: 200 }, () => app.request('/health')));
  assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
  assert.deepEqual(((await answers[0]!.json()) as { checks: unknown }).checks, { store_local: 'ok' });
  assert.equal(counts.writes, 1);
  // Later calls within the TTL reuse the answer.
  for (let i = 0; i < 20; i++) assert.equal((await app.request('/health')).status, 200);
  assert.equal(counts.writes, 1);
});

test('after the TTL the store is probed again (once)', async () => {
  const { counts, driver } = countingStore();
  const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: driver }, health: { ttlMs: 50 } });
  await app.request('/health');
  await new Promise((r) => setTimeout(r, 80));
  await Promise.all(Array.from({ length: 50 }, () => app.request('/health')));
  assert.equal(counts.writes, 2);
});
