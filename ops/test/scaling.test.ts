/**
 * Scaling out and in while an import runs: the services as plain processes with the compose file's
 * environment (container-only addresses replaced), a 5,000-file Drive folder, 1 worker, then 3, then
 * one SIGTERMed mid-batch. The job completes with every file exactly once (one row, one object with
 * Drive's md5, one download), and each worker's share shows in its own /metrics.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { parse } from 'yaml';
import { QUEUES, redisConnection, TERMINAL_JOB_STATUSES, type FileListResponse, type JobStatusResponse } from '@drive-import/common';
import { startDriveEmulator } from '@drive-import/drive-emulator';
import { LOCAL_META_DIR } from '@drive-import/storage';
import { deletePrefix, findOrStartRedis, startStack, tempDir, uniqueName, waitFor, type StackProcess, metricSeries as series } from '@drive-import/testing';
import { read } from './support.ts';

const FILES = 5000;
const BATCH_SIZE = 100;
const BATCH_CONCURRENCY = 3;
const LOGS = !!process.env.SCALING_LOGS;

/**
 * Every service's environment from docker-compose.microservices.yml, `${VAR:-default}` taken as its
 * default, minus what only makes sense inside the compose network (addresses, bind hosts, paths):
 * the test supplies those.
 */
function composeEnv(): Record<string, string> {
  const services = parse(read('docker-compose.microservices.yml'), { merge: true }).services as Record<string, { environment?: Record<string, unknown> }>;
  // NODE_OPTIONS is set per service (each its own V8 flags): the test's processes keep their own.
  const containerOnly = /^(NODE_OPTIONS|REDIS_URL|DATABASE_URL|LOCAL_STORAGE_DIR|[A-Z_]+_URL|[A-Z_]+_HOST)$/;
  const env: Record<string, string> = {};
  for (const name of ['metadata-service', 'storage-service', 'import-service', 'worker', 'gateway']) {
    for (const [key, raw] of Object.entries(services[name]!.environment ?? {})) {
      // Secrets compose insists on (`${VAR:?message}`): startStack makes its own.
      if (containerOnly.test(key) || /^\$\{[A-Z0-9_]+:\?/.test(String(raw))) continue;
      const value = String(raw).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
      assert.ok(!(key in env) || env[key] === value, `compose sets ${key} to different values`);
      env[key] = value;
    }
  }
  return env;
}


const scrape = async (url: string, headers: Record<string, string>) => {
  const res = await fetch(`${url}/metrics`, { headers });
  assert.equal(res.status, 200, `${url}/metrics`);
  return res.text();
};

interface Share {
  workerId: string;
  /** Files this worker finished (stored, skipped or failed), from drive_import_worker_files_total. */
  files: number;
}

async function workerShare(w: StackProcess, headers: Record<string, string>): Promise<Share> {
  const rows = series(await scrape(w.url, headers), 'drive_import_worker_files_total');
  const ids = new Set(rows.map(([l]) => l.worker_id));
  assert.ok(ids.size <= 1 && !ids.has(undefined as unknown as string), `one worker_id per process: ${[...ids].join(', ')}`);
  return { workerId: [...ids][0] ?? '', files: rows.reduce((n, [, v]) => n + v, 0) };
}

test('5,000 files: 1 worker, then 3, one SIGTERMed mid-batch: every file once, each worker\'s share in its metrics', { timeout: 420_000 }, async (t) => {
  const redis = await findOrStartRedis();
  const dir = await tempDir('scaling');
  const prefix = uniqueName('scale');
  // ~2 KB images, 20 ms per download: long enough to scale out and in while it runs.
  const emulator = await startDriveEmulator({
    tree: { files: FILES, depth: 2, foldersPerFolder: 4, seed: 51, imageBytes: 2000 },
    faults: { latencyMs: { media: 20 } },
  });
  const expected = emulator.tree.expectedImages();
  assert.equal(expected.length, FILES);
  const copyQueue = new Queue(QUEUES.copy, { connection: redisConnection(redis.url), prefix });
  const unexpectedExits: string[] = [];
  const stack = await startStack({
    freePorts: true,
    stdio: LOGS ? 'inherit' : 'ignore',
    onUnexpectedExit: (name, code, signal) => unexpectedExits.push(`${name} exited (${code ?? signal})`),
    env: {
      ...process.env,
      ...composeEnv(),
      NODE_ENV: 'test',
      LOG_LEVEL: LOGS ? 'info' : 'warn',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: `file:${join(dir.path, 'meta.db')}`,
      STORAGE_PROVIDER: 'local',
      LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
      DRIVE_API_ROOT_URL: emulator.url,
      // The global pace bounds how fast the job can go on a fast machine, so scaling happens mid-job.
      DRIVE_MAX_REQUESTS_PER_SECOND: '150',
      BATCH_SIZE: String(BATCH_SIZE),
      WORKER_BATCH_CONCURRENCY: String(BATCH_CONCURRENCY),
      // Batches of a dead worker would be taken over after 10 s; long enough that a busy machine's
      // event-loop stall never looks like a dead worker (which would copy a batch twice).
      WORKER_STALLED_INTERVAL_MS: '10000',
    },
  });
  try {
    // Compose's values reached the processes (e.g. its 90 s shutdown grace, at most 128 files at once).
    assert.equal(stack.env.WORKER_SHUTDOWN_GRACE_MS, '90000');
    assert.equal(stack.env.WORKER_CONCURRENCY, '128');
    const first = stack.processes.find((p) => p.name === 'worker')!;
    const gateway = stack.gatewayUrl;

    const res = await fetch(`${gateway}/api/import/google-drive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.adminHeaders },
      body: JSON.stringify({ folder_url: emulator.folderUrl }),
    });
    const accepted = (await res.json()) as { job_id: string; status_url: string };
    assert.equal(res.status, 202, JSON.stringify(accepted));
    const status = async () => (await (await fetch(`${gateway}${accepted.status_url}`, { headers: stack.adminHeaders })).json()) as JobStatusResponse;

    // Scale out to 3 while the first worker copies.
    await waitFor('the first worker to copy', async () => (await workerShare(first, stack.internalHeaders)).files > 0, 60_000, 100);
    const [second, third] = await Promise.all([stack.add('worker'), stack.add('worker')]);
    await waitFor('the new workers to copy', async () => (await workerShare(second!, stack.internalHeaders)).files > 0 && (await workerShare(third!, stack.internalHeaders)).files > 0, 60_000, 100);

    // Scale in: SIGTERM the second worker while it holds batches.
    const stopped = second!;
    const before = await workerShare(stopped, stack.internalHeaders);
    const holding = (await copyQueue.getActive()).filter((j) => j.processedBy === before.workerId).map((j) => j.id!);
    const midJob = await status();
    assert.ok(holding.length > 0, 'the stopped worker was mid-batch');
    assert.ok(!TERMINAL_JOB_STATUSES.includes(midJob.status) && midJob.processed < FILES - BATCH_SIZE, `still copying when stopped (${midJob.processed} done)`);
    const lastScrape = await workerShare(stopped, stack.internalHeaders);
    await stopped.stop('SIGTERM');
    assert.equal(stopped.child.exitCode, 0, 'a clean exit after draining');
    // It finished what it held (the grace period is long): those batches are done, by it.
    for (const id of holding) {
      const job = await copyQueue.getJob(id);
      assert.equal(await job!.getState(), 'completed', `batch ${id}`);
      assert.equal(job!.processedBy, before.workerId, `batch ${id} finished by the stopped worker`);
    }

    const done = await waitFor(
      'the job to finish',
      async () => {
        const s = await status();
        return TERMINAL_JOB_STATUSES.includes(s.status) ? s : null;
      },
      300_000,
      250,
    );
    assert.deepEqual(unexpectedExits, []);
    assert.equal(done.status, 'completed', JSON.stringify(done.errors.slice(0, 3)));
    assert.equal(done.total, FILES);
    assert.equal(done.processed, FILES);
    assert.equal(done.failed, 0);
    assert.equal(done.skipped, 0, 'nothing was copied twice (a re-copy of a taken-over file shows as skipped)');

    // Every file exactly once: one row each, stored under its key ...
    const rows: FileListResponse['files'] = [];
    for (let cursor = ''; ; ) {
      const r = await fetch(`${gateway}/api/import/jobs/${accepted.job_id}/files?per_page=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: stack.adminHeaders });
      const body = (await r.json()) as FileListResponse;
      for (const f of body.files) rows.push(f);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    assert.equal(rows.length, FILES);
    assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(expected.map((f) => f.id)));
    assert.ok(rows.every((r) => r.status === 'stored' && r.storage_provider === 'local'));
    // ... one object each on disk with Drive's md5 ...
    const root = join(dir.path, 'objects');
    const objects = new Map<string, string>();
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = join(entry.parentPath, entry.name);
      if (relative(root, full).split('/')[0] === LOCAL_META_DIR) continue;
      objects.set(relative(root, full), createHash('md5').update(await readFile(full)).digest('hex'));
    }
    assert.equal(objects.size, FILES);
    const md5ById = new Map(expected.map((f) => [f.id, f.md5]));
    for (const r of rows) assert.equal(objects.get(r.storage_key), md5ById.get(r.id), r.storage_key);
    // ... and downloaded once: no batch was copied twice, across the scale-out and the SIGTERM.
    const downloads = emulator.stats().downloads;
    assert.equal(Object.keys(downloads).length, FILES);
    assert.ok(Object.values(downloads).every((n) => n === 1), 'every file downloaded once');

    // Each worker's share. Redis keeps which worker finished each batch (BullMQ's processedBy = the
    // worker_id label); the running workers' /metrics must match it, and the stopped one's last
    // scrape can only lack the files it finished after that scrape, during its drain.
    const byWorker = new Map<string, number>();
    const batches = await copyQueue.getJobs(['completed']);
    assert.equal(batches.length, FILES / BATCH_SIZE);
    for (const b of batches) byWorker.set(b.processedBy!, (byWorker.get(b.processedBy!) ?? 0) + (b.data as { results: unknown[] }).results.length);
    const [a, c] = await Promise.all([workerShare(first, stack.internalHeaders), workerShare(third!, stack.internalHeaders)]);
    const ids = [a.workerId, lastScrape.workerId, c.workerId];
    assert.equal(new Set(ids).size, 3, `three distinct worker ids: ${ids.join(', ')}`);
    assert.deepEqual([...byWorker.keys()].sort(), [...ids].sort(), 'only these three finished batches');
    assert.equal(a.files, byWorker.get(a.workerId));
    assert.equal(c.files, byWorker.get(c.workerId));
    const stoppedShare = byWorker.get(lastScrape.workerId)!;
    assert.ok(lastScrape.files <= stoppedShare && stoppedShare - lastScrape.files <= BATCH_CONCURRENCY * BATCH_SIZE, `stopped worker: ${lastScrape.files} at its last scrape, ${stoppedShare} in all`);
    const shares = [a.files, stoppedShare, c.files];
    assert.ok(shares.every((n) => n > 0), `every worker copied: ${shares.join(', ')}`);
    assert.equal(shares[0]! + shares[1]! + shares[2]!, FILES);
    t.diagnostic(`shares: first ${a.files}, stopped ${stoppedShare} (${lastScrape.files} at its last scrape, stopped at ${midJob.processed} done), third ${c.files}`);

    // The other services' /metrics: the queues as the import-service sees them, the jobs as recorded.
    const byName = (name: string) => stack.processes.find((p) => p.name === name)!.url;
    const imports = await scrape(byName('import-service'), stack.internalHeaders);
    const depth = Object.fromEntries(series(imports, 'drive_import_queue_jobs').map(([l, v]) => [`${l.queue}/${l.state}`, v]));
    assert.deepEqual(
      [depth['copy/completed'], depth['copy/waiting'], depth['copy/active'], depth['copy/delayed'], depth['copy/failed'], depth['listing/completed']],
      [FILES / BATCH_SIZE, 0, 0, 0, 0, 1],
    );
    assert.ok(series(imports, 'drive_import_import_service_drive_requests_total').some(([l, v]) => l.method === 'list' && v > 0));
    const meta = await scrape(byName('metadata-service'), stack.internalHeaders);
    assert.deepEqual(series(meta, 'drive_import_metadata_service_jobs'), [[{ status: 'completed' }, 1]]);
    assert.deepEqual(series(meta, 'drive_import_metadata_service_files_added_total').find(([l]) => l.outcome === 'pending')?.[1], FILES);
    for (const name of ['gateway', 'storage-service'] as const) {
      const url = name === 'gateway' ? gateway : byName(name);
      assert.match(await scrape(url, name === 'gateway' ? stack.adminHeaders : stack.internalHeaders), /^drive_import_http_request_duration_seconds_count\{service="[a-z-]+",method="GET",route="\/health",status="200"\} \d+$/m);
    }
  } finally {
    await stack.stop();
    await copyQueue.close();
    await emulator.close();
    await deletePrefix(redis.url, prefix);
    await redis.stop();
    await dir.cleanup();
  }
});
