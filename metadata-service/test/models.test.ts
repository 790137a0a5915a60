/** Every model is written and read back through the generated clients, BigInt sizes above 2^53 included. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { PrismaMssql } from '@prisma/adapter-mssql';
import { Prisma as SqlServerPrisma, PrismaClient as SqlServerClient } from '../src/generated/sqlserver/client.ts';
import { freshService } from './support.ts';

const HUGE = 2n ** 60n + 7n; // beyond Number.MAX_SAFE_INTEGER: must survive as BigInt

test('ImportJob, Batch and File round-trip through the SQLite client', async () => {
  const svc = await freshService();
  try {
    const id = randomUUID();
    const now = new Date('2026-01-02T03:04:05.678Z');
    await svc.db.transaction(async (tx) => {
      await tx.importJob.create({
        data: { id, folderId: 'folderAbcdefghij', folderName: 'Ünïcödé 📷', resourceKey: 'rk-1', destination: 'azure', batchSize: 7, bytesTotal: HUGE, bytesDone: HUGE - 1n, startedAt: now },
      });
      await tx.batch.create({ data: { id: `${id}-b0`, jobId: id, index: 0, status: 'sealed', fileCount: 1, sealedAt: now } });
      await tx.file.create({
        data: {
          jobId: id, batchId: `${id}-b0`, driveId: 'driveIdAbcdef123', name: 'x'.repeat(4096), folderPath: 'a/'.repeat(2000), mimeType: 'image/png',
          size: HUGE, md5: '0123456789abcdef0123456789abcdef', modifiedTime: now, width: 1, height: 2, takenAt: '2026:01:02 03:04:05',
          status: 'stored', attempts: 3, error: null, storageProvider: 'azure', storageKey: 'k/'.repeat(500), etag: '"e"', bytesCopied: HUGE,
        },
      });
    });
    const job = await svc.db.read.importJob.findUniqueOrThrow({ where: { id }, include: { batches: true, files: true } });
    assert.equal(job.bytesTotal, HUGE);
    assert.equal(job.bytesDone, HUGE - 1n);
    assert.equal(job.folderName, 'Ünïcödé 📷');
    assert.equal(job.status, 'queued', 'default status');
    assert.equal(job.listingComplete, false);
    assert.deepEqual(job.startedAt, now);
    assert.equal(job.batches[0]!.status, 'sealed');
    assert.deepEqual(job.batches[0]!.sealedAt, now);
    const file = job.files[0]!;
    assert.equal(file.size, HUGE);
    assert.equal(file.bytesCopied, HUGE);
    assert.equal(file.name.length, 4096);
    assert.deepEqual(file.modifiedTime, now);
    assert.equal(file.batchId, `${id}-b0`);

    await svc.db.transaction((tx) => tx.file.update({ where: { id: file.id }, data: { size: null, status: 'failed', error: 'gone' } }));
    const updated = await svc.db.read.file.findUniqueOrThrow({ where: { jobId_driveId: { jobId: id, driveId: 'driveIdAbcdef123' } } });
    assert.deepEqual([updated.size, updated.status, updated.error], [null, 'failed', 'gone']);

    // The (job, drive id) key is unique.
    await assert.rejects(
      svc.db.transaction((tx) => tx.file.create({ data: { jobId: id, driveId: 'driveIdAbcdef123', name: 'n', folderPath: '', mimeType: 'image/png', storageKey: 'k' } })),
      /Unique constraint/,
    );
    // Deleting a job takes its batches and files with it.
    await svc.db.transaction(async (tx) => {
      await tx.file.deleteMany({ where: { jobId: id } });
      await tx.importJob.delete({ where: { id } });
    });
    assert.equal(await svc.db.read.batch.count(), 0);
  } finally {
    await svc.close();
  }
});

test('the SQL Server client is generated with the same models (built at postinstall)', async () => {
  assert.deepEqual(Object.values(SqlServerPrisma.ModelName), ['ImportJob', 'Batch', 'File', 'StoredObject', 'ApiToken', 'WebhookDelivery', 'Activity']);
  // Constructing it needs no server: the adapter connects on the first query.
  const client = new SqlServerClient({ adapter: new PrismaMssql('sqlserver://127.0.0.1:1;database=none;user=sa;password=x;trustServerCertificate=true') });
  assert.equal(typeof client.file.createMany, 'function');
  assert.equal(typeof client.importJob.findMany, 'function');
  assert.equal(typeof client.batch.updateMany, 'function');
  await client.$disconnect();
});
