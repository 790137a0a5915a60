import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

let started = 0;
/** `<hostname>-<pid>` (a pod's hostname is its name), `-2`, `-3`... for more workers in one process. */
export function newWorkerId(): string {
  started++;
  return `${hostname()}-${process.pid}${started > 1 ? `-${started}` : ''}`;
}

/**
 * One registry per worker instance (tests run several in one process). Every series carries
 * `worker_id`, so each replica's share stays visible after Prometheus aggregates.
 */
export function createWorkerMetrics(workerId: string = newWorkerId()) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker_id: workerId });
  collectDefaultMetrics({ register: registry, prefix: 'drive_import_worker_' });
  const files = new Counter({
    name: 'drive_import_worker_files_total',
    help: 'Files finished, by outcome (stored, failed, skipped: already in the store from an earlier try of the batch)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const bytes = new Counter({ name: 'drive_import_worker_bytes_total', help: 'Bytes stored', registers: [registry] });
  const copySeconds = new Histogram({
    name: 'drive_import_worker_copy_duration_seconds',
    help: 'Time to copy one file, all tries included',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const driveRequests = new Counter({ name: 'drive_import_worker_drive_requests_total', help: 'Drive download requests sent', registers: [registry] });
  const driveErrors = new Counter({
    name: 'drive_import_worker_drive_errors_total',
    help: 'Failed Drive downloads, by status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'drive_import_worker_drive_rate_limited_total',
    help: 'Drive rate-limit answers, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'drive_import_worker_retries_total',
    help: 'File tries that failed and were retried, by kind (drive, store, checksum)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const batches = new Counter({
    name: 'drive_import_worker_batches_total',
    help: 'Batches whose results were posted, by how (copied, reposted)',
    labelNames: ['how'] as const,
    registers: [registry],
  });
  const thumbnails = new Counter({
    name: 'drive_import_worker_thumbnails_total',
    help: 'Stored files a thumbnail was tried for, by whether one was made (yes, no: undecodable or not stored)',
    labelNames: ['made'] as const,
    registers: [registry],
  });
  // Where a file's time in flight goes (sums; divide by files for the mean): pacing (waiting for a
  // Drive request slot), drive_first_byte (request to response headers), drive_body (headers to the
  // body's last byte, the upload streaming alongside), store_finish (last byte to the store's answer,
  // its verify included), results (the batch's results call, per file). Counters, not histograms: cheap per file.
  const stageSeconds = new Counter({
    name: 'drive_import_worker_stage_seconds_total',
    help: 'Seconds spent per stage of a file copy, summed over files (pacing, drive_first_byte, drive_body, store_finish, results)',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  const stages = {
    pacing: stageSeconds.labels('pacing'),
    driveFirstByte: stageSeconds.labels('drive_first_byte'),
    driveBody: stageSeconds.labels('drive_body'),
    storeFinish: stageSeconds.labels('store_finish'),
    results: stageSeconds.labels('results'),
  };
  const concurrency = new Gauge({
    name: 'drive_import_worker_concurrency_limit',
    help: 'Files this worker lets be in flight at once now (adapted between WORKER_MIN_CONCURRENCY and WORKER_CONCURRENCY)',
    registers: [registry],
  });
  return { workerId, registry, files, bytes, copySeconds, stages, concurrency, driveRequests, driveErrors, rateLimited, retries, batches, thumbnails };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
