/** Per-import thumbnails (kept on the job, in every batch, retries included) and camera make/model (Drive first, EXIF after). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failedResult, FOLDER_ID, freshService, listedFile, stored, type TestService } from './support.ts';

async function newJob(svc: TestService, body: Record<string, unknown>): Promise<string> {
  const res = await svc.request('POST', '/jobs', { folder_id: FOLDER_ID, folder_name: 'Photos', destination: 's3', batch_size: 2, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.job_id as string;
}

describe('thumbnails per job', () => {
  it('stored on the job, in each of its batches, and in the batches of a retry', async () => {
    const svc = await freshService();
    try {
      const withThumbs = await newJob(svc, { thumbnails: true });
      const without = await newJob(svc, {});
      assert.equal((await svc.request('GET', `/jobs/${withThumbs}`)).body.thumbnails, true);
      assert.equal((await svc.request('GET', `/jobs/${without}`)).body.thumbnails, false, 'omitted: false');
      const all = [listedFile(1), listedFile(2), listedFile(3)];
      for (const id of [withThumbs, without]) {
        await svc.request('POST', `/jobs/${id}/files`, { files: all });
        await svc.request('POST', `/jobs/${id}/listing-complete`);
      }
      assert.equal((await svc.request('GET', `/batches/${withThumbs}-b0`)).body.thumbnails, true);
      assert.equal((await svc.request('GET', `/batches/${withThumbs}-b1`)).body.thumbnails, true);
      assert.equal((await svc.request('GET', `/batches/${without}-b0`)).body.thumbnails, false);

      await svc.request('POST', `/batches/${withThumbs}-b0/results`, { job_id: withThumbs, results: all.slice(0, 2).map((f) => failedResult(f)) });
      await svc.request('POST', `/batches/${withThumbs}-b1/results`, { job_id: withThumbs, results: [stored(all[2]!)] });
      const retried = await svc.request('POST', `/jobs/${withThumbs}/retry`);
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      assert.equal(retried.body.thumbnails, true);
      const again = (await svc.request('GET', `/batches/${withThumbs}-b2`)).body;
      assert.equal(again.files.length, 2);
      assert.equal(again.thumbnails, true, 'the retry keeps the job\'s choice');
    } finally {
      await svc.close();
    }
  });

  it('refuses a thumbnails that is not a boolean', async () => {
    const svc = await freshService();
    try {
      const res = await svc.request('POST', '/jobs', { folder_id: FOLDER_ID, folder_name: 'Photos', destination: 's3', batch_size: 2, thumbnails: 'yes' });
      assert.equal(res.status, 400);
    } finally {
      await svc.close();
    }
  });
});

describe('camera make and model', () => {
  it("Drive's camera is kept (EXIF never overrides it); EXIF fills in when Drive had none; both searchable", async () => {
    const svc = await freshService();
    try {
      const id = await newJob(svc, {});
      const fromDrive = listedFile(1, { camera_make: 'Canon', camera_model: 'Canon EOS R5' });
      const noCamera = listedFile(2);
      const never = listedFile(3, { name: 'plain.png' });
      await svc.request('POST', `/jobs/${id}/files`, { files: [fromDrive, noCamera, never] });
      await svc.request('POST', `/jobs/${id}/listing-complete`);
      const b0 = (await svc.request('GET', `/batches/${id}-b0`)).body;
      assert.deepEqual(
        b0.files.map((f: { drive_id: string; has_camera: boolean }) => [f.drive_id, f.has_camera]),
        [
          [fromDrive.drive_id, true],
          [noCamera.drive_id, false],
        ],
        'the worker reads EXIF only for a file Drive gave no camera',
      );
      const exif = { camera_make: 'NIKON CORPORATION', camera_model: 'NIKON D850' };
      const res = await svc.request('POST', `/batches/${id}-b0/results`, {
        job_id: id,
        results: [
          { ...stored(fromDrive), ...exif },
          { ...stored(noCamera), ...exif },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await svc.request('POST', `/batches/${id}-b1/results`, { job_id: id, results: [stored(never)] });

      const list = (await svc.request('GET', `/images?job_id=${id}`)).body;
      const byDrive = new Map(list.images.map((i: { drive_id: string }) => [i.drive_id, i]));
      const cam = (driveId: string) => {
        const i = byDrive.get(driveId) as { camera_make: string | null; camera_model: string | null };
        return [i.camera_make, i.camera_model];
      };
      assert.deepEqual(cam(fromDrive.drive_id), ['Canon', 'Canon EOS R5']);
      assert.deepEqual(cam(noCamera.drive_id), ['NIKON CORPORATION', 'NIKON D850']);
      assert.deepEqual(cam(never.drive_id), [null, null]);

      const names = async (query: string) => (await svc.request('GET', `/images?${query}`)).body.images.map((i: { name: string }) => i.name).sort();
      assert.deepEqual(await names('camera=eos'), [fromDrive.name]);
      assert.deepEqual(await names('camera=NIKON'), [noCamera.name]);
      assert.deepEqual(await names('q=D850'), [noCamera.name], 'q matches the camera too');
      assert.deepEqual(await names('q=plain'), ['plain.png'], 'and the name, as before');
      assert.equal((await svc.request('GET', `/images?camera=eos`)).body.total, 1);
    } finally {
      await svc.close();
    }
  });
});
