/** GET /stored-objects: the catalog's answer to "is this key of this destination a stored object?" (asked before any delete). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoredObjectResponse } from '@drive-import/common';
import { createJob, failedResult, files, freshService, stored, type TestService } from './support.ts';

describe('GET /stored-objects', () => {
  let svc: TestService;
  let jobId: string;
  const all = files(500, 3);

  before(async () => {
    svc = await freshService();
    jobId = await createJob(svc, 10, 's3');
    assert.equal((await svc.request('POST', `/jobs/${jobId}/files`, { files: all })).status, 200);
    assert.equal((await svc.request('POST', `/jobs/${jobId}/listing-complete`)).status, 200);
    const res = await svc.request('POST', `/batches/${jobId}-b0/results`, { job_id: jobId, results: [stored(all[0]!), stored(all[1]!), failedResult(all[2]!)] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
  after(() => svc?.close());

  const lookup = (destination: string, key: string) => svc.request('GET', `/stored-objects?${new URLSearchParams({ destination, key })}`);

  test('a stored key answers 200 with what it holds', async () => {
    const f = all[0]!;
    const res = await lookup('s3', f.storage_key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(StoredObjectResponse.parse(res.body), { destination: 's3', key: f.storage_key, md5: f.md5, size: f.size, job_id: jobId, drive_id: f.drive_id });
  });

  test('a key the catalog does not know is 404 stored_object_not_found: a failed file, another destination, a near miss', async () => {
    for (const [destination, key] of [
      ['s3', all[2]!.storage_key],
      ['azure', all[0]!.storage_key],
      ['local', all[0]!.storage_key],
      ['s3', `${all[0]!.storage_key}x`],
      ['s3', all[0]!.storage_key.toUpperCase()],
      ['s3', 'drive-import/never/stored.jpg'],
    ]) {
      const res = await lookup(destination!, key!);
      assert.equal(res.status, 404, `${destination} ${key}`);
      assert.equal(res.body.error.code, 'stored_object_not_found');
    }
  });

  test('a bad query is 400 in the error shape', async () => {
    for (const path of ['/stored-objects', '/stored-objects?destination=s3', '/stored-objects?destination=ftp&key=a', `/stored-objects?destination=s3&key=${'k'.repeat(1025)}`, '/stored-objects?destination=s3&key=a&extra=1']) {
      const res = await svc.request('GET', path);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error.code, 'invalid_request', path);
    }
  });
});
