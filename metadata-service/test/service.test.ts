/** The served service, as the other services and the in-process starter use it. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, JobSummary } from '@drive-import/common';
import { tempDir } from '@drive-import/testing';
import { startMetadataService } from '../src/index.ts';

test('startMetadataService migrates a new database, serves, and keeps data across restarts', async () => {
  const dir = await tempDir('metadata-service');
  const databaseUrl = `file:${join(dir.path, 'data', 'svc.db')}`;
  const log = createLogger('metadata-test', 'silent');
  try {
    const first = await startMetadataService({ databaseUrl, port: 0, log });
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${first.url}/health`);
    assert.equal(health.status, 200);
    const created = await fetch(`${first.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ folder_id: 'folderAbcdefghij', folder_name: 'x', destination: 'local', batch_size: 10 }),
    });
    assert.equal(created.status, 201);
    const job = JobSummary.parse(await created.json());
    await first.close();

    const second = await startMetadataService({ databaseUrl, port: 0, log });
    const again = await fetch(`${second.url}/jobs/${job.job_id}`);
    assert.deepEqual(JobSummary.parse(await again.json()), job);
    await second.close();
  } finally {
    await dir.cleanup();
  }
});
