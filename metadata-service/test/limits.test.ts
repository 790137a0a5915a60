// Per-job caps (MAX_FILES_PER_JOB, MAX_BYTES_PER_JOB): the chunk that would pass one fails the job,
// naming the cap, and adds nothing; the listing gets a 409 and stops; queued batches copy no more.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToken } from '../src/tokens.ts';
import { createJob, files, freshService } from './support.ts';

describe('per-job caps', () => {
  it('MAX_FILES_PER_JOB: the chunk that passes it fails the job with a message naming the cap', async () => {
    const svc = await freshService({ limits: { maxFiles: 250 } });
    try {
      const id = await createJob(svc, 100);
      assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: files(0, 200) })).status, 200);
      const over = await svc.request('POST', `/jobs/${id}/files`, { files: files(200, 100) });
      assert.equal(over.status, 409);
      assert.equal(over.body.error.code, 'job_cap_exceeded');
      assert.match(over.body.error.message, /MAX_FILES_PER_JOB \(250\)/);
      const job = (await svc.request('GET', `/jobs/${id}`)).body;
      assert.equal(job.status, 'failed');
      assert.match(job.error, /MAX_FILES_PER_JOB \(250\)/);
      assert.equal(job.total, 200, 'the chunk that passed the cap added nothing');
      // Its sealed batches hand a worker nothing to copy now.
      const batch = (await svc.request('GET', `/batches/${id}-b0`)).body;
      assert.deepEqual(batch.files, []);
      assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: files(300, 1) })).body.error.code, 'job_finished');
    } finally {
      await svc.close();
    }
  });

  it('MAX_BYTES_PER_JOB: counted from the listed sizes', async () => {
    const svc = await freshService({ limits: { maxBytes: 50_000 } });
    try {
      const id = await createJob(svc, 100);
      // listedFile(n) is 1000 + n bytes: 40 files are ~40 KB, 10 more pass 50 KB.
      assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: files(0, 40) })).status, 200);
      const over = await svc.request('POST', `/jobs/${id}/files`, { files: files(40, 10) });
      assert.equal(over.status, 409);
      assert.match(over.body.error.message, /MAX_BYTES_PER_JOB \(50000 bytes\)/);
      assert.equal((await svc.request('GET', `/jobs/${id}`)).body.status, 'failed');
    } finally {
      await svc.close();
    }
  });

  it('no caps by default', async () => {
    const svc = await freshService();
    try {
      const id = await createJob(svc, 100);
      assert.equal((await svc.request('POST', `/jobs/${id}/files`, { files: files(0, 2000) })).status, 200);
    } finally {
      await svc.close();
    }
  });
});

describe('per-token quotas', () => {
  it('a listing that would pass the token\'s file quota fails its job naming the quota; a token at its quota starts nothing', async () => {
    const svc = await freshService();
    try {
      await createToken(svc.db, 'hank', false, { maxFiles: 150, maxBytes: null });
      const start = () => svc.request('POST', '/jobs', { folder_id: 'folderAbcdefghij0123', folder_name: 'x', destination: 's3', batch_size: 100, owner: 'hank' });
      const first = (await start()).body.job_id as string;
      assert.equal((await svc.request('POST', `/jobs/${first}/files`, { files: files(0, 100) })).status, 200);
      // A second job of the same token: its first 60 files would bring the token to 160 > 150.
      const second = (await start()).body.job_id as string;
      const over = await svc.request('POST', `/jobs/${second}/files`, { files: files(100, 60) });
      assert.equal(over.status, 409);
      assert.match(over.body.error.message, /quota of 150 files/);
      assert.equal((await svc.request('GET', `/jobs/${second}`)).body.status, 'failed');
      await svc.request('POST', `/jobs/${first}/files`, { files: files(200, 50) });
      const refused = await start();
      assert.equal(refused.status, 403, 'at 150 of 150 files: nothing more starts');
      assert.equal(refused.body.error.code, 'quota_exceeded');
      // Another token, or none, is not limited by it.
      assert.equal((await svc.request('POST', '/jobs', { folder_id: 'folderAbcdefghij0123', folder_name: 'x', destination: 's3', batch_size: 100, owner: null })).status, 201);
    } finally {
      await svc.close();
    }
  });

  it('the byte quota is counted from the listed sizes', async () => {
    const svc = await freshService();
    try {
      await createToken(svc.db, 'ivy', false, { maxFiles: null, maxBytes: 10_000n });
      const id = (await svc.request('POST', '/jobs', { folder_id: 'folderAbcdefghij0123', folder_name: 'x', destination: 's3', batch_size: 100, owner: 'ivy' })).body.job_id as string;
      const over = await svc.request('POST', `/jobs/${id}/files`, { files: files(0, 20) }); // ~20 KB
      assert.equal(over.status, 409);
      assert.match(over.body.error.message, /quota of 10000 bytes/);
    } finally {
      await svc.close();
    }
  });
});
