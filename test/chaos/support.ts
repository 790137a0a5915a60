/**
 * The fault suite's harness: one import of a generated Drive folder through the real services (as
 * processes, like `npm start`) into s3rver (or a local store), a fault injected while it runs, then
 * the exactly-once audit: the job's status, every Drive file once in the catalog (the gateway's
 * keyset pages) and once in the store with Drive's md5, no orphan object, no row without its
 * object, counters equal to the rows. Each run's row is written to test/chaos/results/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { TERMINAL_JOB_STATUSES, type FileListResponse, type FileRecord, type JobStatusResponse } from '@drive-import/common';
import { startDriveEmulator, type DriveEmulator, type Faults } from '@drive-import/drive-emulator';
import { LOCAL_META_DIR } from '@drive-import/storage';
import {
  deletePrefix,
  findOrStartRedis,
  freePort,
  startFaultProxy,
  startS3Server,
  startStack,
  tempDir,
  uniqueName,
  waitFor,
  type FaultProxy,
  type RestartPolicy,
  type Stack,
} from '@drive-import/testing';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const LOGS = !!process.env.CHAOS_LOGS;

export interface Row {
  fault: string;
  size: 'small' | 'full';
  files_expected: number;
  stored: number;
  /** Rows that ended failed (only acceptable where the fault really makes a file fail). */
  failed: number;
  /** Extra rows for one Drive file plus objects no row points at. */
  duplicated: number;
  /** Drive files neither stored with the right bytes nor failed with an accepted reason. */
  lost: number;
  seconds: number;
  job_status: string;
  /** What the fault did (kills, refusals ...), and any problem found. */
  note: string;
  problems: string[];
}

/** A redis-server of the test's own, with AOF fsynced on every write, that can be stopped and started again. */
export interface OwnRedis {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function pong(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

export async function startOwnRedis(dir: string): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const handle: OwnRedis = {
    url,
    port,
    dir,
    async start() {
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'],
        { stdio: 'ignore' },
      );
      child = c;
      await new Promise<void>((resolve, reject) => {
        c.once('spawn', () => resolve());
        c.once('error', reject);
      });
      await waitFor(`redis-server on ${port}`, () => pong(url), 15_000, 100);
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill(signal);
      });
    },
  };
  await handle.start();
  return handle;
}

export interface ChaosContext {
  stack: Stack;
  emulator: DriveEmulator;
  s3Proxy: FaultProxy | null;
  driveProxy: FaultProxy | null;
  ownRedis: OwnRedis | null;
  jobId: string;
  files: number;
  status(): Promise<JobStatusResponse>;
  /** Resolves once `pred` holds for the job's status; rejects if the job ends first. */
  until(what: string, pred: (s: JobStatusResponse) => boolean, timeoutMs?: number): Promise<JobStatusResponse>;
  finished(): Promise<boolean>;
  /** A defect the fault's own checks found (beyond the exactly-once audit). */
  problem(message: string): void;
}

export interface ChaosCase {
  fault: string;
  size: 'small' | 'full';
  files: number;
  imageBytes?: number;
  seed?: number;
  storage?: 's3' | 'local';
  /** For storage 'local': the store's directory (e.g. a tmpfs); default a temp dir. */
  localDir?: string;
  ownRedis?: boolean;
  s3Proxy?: boolean;
  driveProxy?: boolean;
  /** The Drive emulator's faults; a function gets the tree's image ids (to aim at given files). */
  emulatorFaults?: Faults | ((imageIds: string[]) => Faults);
  env?: NodeJS.ProcessEnv;
  restart?: Partial<RestartPolicy>;
  /** Workers beyond the stack's one. */
  extraWorkers?: number;
  /** Runs while the job runs; returns a note on what it did. */
  inject?: (ctx: ChaosContext) => Promise<string>;
  /** Failed rows this fault may produce (e.g. a full disk): true when the reason is the expected one. */
  acceptFailure?: (row: FileRecord) => boolean;
  timeoutMs?: number;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

async function mapLimit<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The last lines each service wrote, for a failure's message. */
function outputKeeper() {
  const lines: string[] = [];
  return {
    push(name: string, chunk: Buffer) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(`[${name}] ${l.slice(0, 400)}`);
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    },
    tail: (n = 30) => lines.slice(-n).join('\n'),
  };
}

export async function runChaos(c: ChaosCase): Promise<Row> {
  const started = Date.now();
  const dir = await tempDir('chaos');
  const prefix = uniqueName('chaos');
  const cleanups: Array<() => Promise<unknown>> = [];
  const problems: string[] = [];
  let note = '';
  let jobStatus = 'not started';
  const out = outputKeeper();
  try {
    const emulator = await startDriveEmulator({ tree: { files: c.files, depth: 2, foldersPerFolder: 4, seed: c.seed ?? 7, imageBytes: c.imageBytes ?? 2000 } });
    cleanups.push(() => emulator.close());
    const expected = emulator.tree.expectedImages();
    const faults = typeof c.emulatorFaults === 'function' ? c.emulatorFaults(expected.map((f) => f.id)) : c.emulatorFaults;
    if (faults) emulator.setFaults(faults);

    let ownRedis: OwnRedis | null = null;
    let redisUrl: string;
    if (c.ownRedis) {
      ownRedis = await startOwnRedis(dir.path);
      const r = ownRedis;
      cleanups.push(() => r.stop('SIGKILL'));
      redisUrl = ownRedis.url;
    } else {
      const shared = await findOrStartRedis();
      cleanups.push(async () => {
        await deletePrefix(shared.url, prefix);
        await shared.stop();
      });
      redisUrl = shared.url;
    }

    const driveProxy = c.driveProxy ? await startFaultProxy(emulator.url) : null;
    if (driveProxy) cleanups.push(() => driveProxy.close());

    const storage = c.storage ?? 's3';
    const bucket = uniqueName('chaos-bucket');
    let storageEnv: NodeJS.ProcessEnv;
    let listObjects: () => Promise<{ objects: Map<string, string>; halfWritten: string[] }>;
    let s3Proxy: FaultProxy | null = null;
    if (storage === 's3') {
      const s3 = await startS3Server();
      cleanups.push(() => s3.stop());
      await s3.createBucket(bucket);
      const client = s3.client();
      cleanups.push(async () => client.destroy());
      s3Proxy = c.s3Proxy ? await startFaultProxy(s3.endpoint) : null;
      const proxy = s3Proxy;
      if (proxy) cleanups.push(() => proxy.close());
      storageEnv = {
        STORAGE_PROVIDER: 's3',
        S3_ENDPOINT: s3Proxy?.url ?? s3.endpoint,
        S3_BUCKET: bucket,
        S3_REGION: s3.region,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      };
      listObjects = async () => {
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
          for (const o of page.Contents ?? []) keys.push(o.Key!);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        const sums = await mapLimit(keys, 16, async (key) => {
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          return md5(await got.Body!.transformToByteArray());
        });
        return { objects: new Map(keys.map((k, i) => [k, sums[i]!])), halfWritten: [] };
      };
    } else {
      const root = c.localDir ?? join(dir.path, 'objects');
      storageEnv = { STORAGE_PROVIDER: 'local', LOCAL_STORAGE_DIR: root };
      listObjects = async () => {
        const objects = new Map<string, string>();
        const halfWritten: string[] = [];
        for (const entry of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
          if (!entry.isFile()) continue;
          const full = join(entry.parentPath, entry.name);
          const rel = relative(root, full);
          if (entry.name.startsWith('.tmp-')) halfWritten.push(rel);
          else if (rel.split('/')[0] !== LOCAL_META_DIR) objects.set(rel, md5(await readFile(full)));
        }
        return { objects, halfWritten };
      };
    }

    const unexpected: string[] = [];
    const stack = await startStack({
      freePorts: true,
      stdio: LOGS ? 'inherit' : 'pipe',
      onOutput: (name, chunk) => out.push(name, chunk),
      onUnexpectedExit: (name, code, signal) => unexpected.push(`${name} (${code ?? signal})`),
      restart: { baseDelayMs: 500, maxDelayMs: 2000, maxCrashes: 100, windowMs: 60_000, ...c.restart },
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: LOGS ? 'info' : 'warn',
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_URL: `file:${join(dir.path, 'meta.db')}`,
        DRIVE_API_ROOT_URL: driveProxy ? `${driveProxy.url}/` : emulator.url,
        DRIVE_MAX_REQUESTS_PER_SECOND: '100000',
        GOOGLE_API_KEY: '',
        GOOGLE_APPLICATION_CREDENTIALS: '',
        BATCH_SIZE: '50',
        // A dead worker's batches are taken over after 5 s (the default 30 s only makes the runs long).
        WORKER_STALLED_INTERVAL_MS: '5000',
        ...storageEnv,
        ...c.env,
      },
    });
    cleanups.unshift(() => stack.stop());
    for (let i = 0; i < (c.extraWorkers ?? 0); i++) await stack.add('worker');

    const gateway = stack.gatewayUrl;
    const res = await fetch(`${gateway}/api/import/google-drive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.adminHeaders },
      body: JSON.stringify({ folder_url: emulator.folderUrl }),
    });
    const accepted = (await res.json()) as { job_id: string; status_url: string };
    if (res.status !== 202) throw new Error(`import refused: ${res.status} ${JSON.stringify(accepted)}`);
    // Any one call may fail mid-fault (the metadata-service is down): the last good answer stands.
    let last: JobStatusResponse | null = null;
    const status = async (): Promise<JobStatusResponse> => {
      const r = await fetch(`${gateway}${accepted.status_url}`, { headers: stack.adminHeaders, signal: AbortSignal.timeout(5000) });
      if (!r.ok) throw new Error(`status ${r.status}`);
      last = (await r.json()) as JobStatusResponse;
      return last;
    };
    const finished = async () => {
      const s = await status().catch(() => last);
      return !!s && TERMINAL_JOB_STATUSES.includes(s.status);
    };
    const ctx: ChaosContext = {
      stack,
      emulator,
      s3Proxy,
      driveProxy,
      ownRedis,
      jobId: accepted.job_id,
      files: c.files,
      status,
      finished,
      problem: (message) => problems.push(message),
      until: (what, pred, timeoutMs = 300_000) =>
        waitFor(
          what,
          async () => {
            const s = await status().catch(() => null);
            if (s && TERMINAL_JOB_STATUSES.includes(s.status) && !pred(s)) throw new Error(`the job ended (${s.status}) before ${what}`);
            return s && pred(s) ? s : null;
          },
          timeoutMs,
          100,
        ),
    };
    const injected = c.inject ? c.inject(ctx).catch((err: Error) => `inject failed: ${err.message}`) : Promise.resolve('');

    const timeoutMs = c.timeoutMs ?? 600_000;
    const done = await waitFor(
      'the job to finish',
      async () => {
        const s = await status().catch(() => null);
        return s && TERMINAL_JOB_STATUSES.includes(s.status) ? s : null;
      },
      timeoutMs,
      250,
    ).catch(() => null);
    note = await injected;
    if (!done) {
      const l = last as JobStatusResponse | null;
      jobStatus = `never finished (${l?.status ?? 'no status'})`;
      problems.push(
        `the job did not finish within ${timeoutMs / 1000} s; last status: ${JSON.stringify(l && { status: l.status, total: l.total, processed: l.processed, failed: l.failed, listing_complete: l.listing_complete })}`,
      );
      return finish();
    }
    jobStatus = done.status;

    // The catalog, a keyset page at a time.
    const rows: FileRecord[] = [];
    for (let cursor = ''; ; ) {
      const r = await fetch(`${gateway}/api/import/jobs/${accepted.job_id}/files?per_page=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: stack.adminHeaders });
      const body = (await r.json()) as FileListResponse;
      for (const f of body.files) rows.push(f);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    const { objects, halfWritten } = await listObjects();
    const audit = auditRun(expected, rows, objects, done, c.acceptFailure);
    for (const p of audit.problems) problems.push(p);
    if (halfWritten.length) problems.push(`${halfWritten.length} half-written upload(s) left: ${halfWritten.slice(0, 3).join(', ')}`);
    if (unexpected.length && !c.inject) problems.push(`services exited unexpectedly: ${unexpected.join(', ')}`);
    return finish(audit.counts);
  } catch (err) {
    problems.push(`harness error: ${(err as Error).stack ?? String(err)}`);
    return finish();
  } finally {
    for (const fn of cleanups) await fn().catch(() => {});
    await dir.cleanup();
  }

  function finish(counts = { stored: 0, failed: 0, duplicated: 0, lost: c.files }): Row {
    if (problems.length) problems.push(`last service output:\n${out.tail()}`);
    const row: Row = { fault: c.fault, size: c.size, files_expected: c.files, ...counts, seconds: Math.round((Date.now() - started) / 1000), job_status: jobStatus, note, problems };
    return row;
  }
}

interface Expected {
  id: string;
  md5: string;
}

/** The exactly-once audit of one finished job. */
export function auditRun(
  expected: Expected[],
  rows: FileRecord[],
  objects: Map<string, string>,
  job: JobStatusResponse,
  acceptFailure?: (row: FileRecord) => boolean,
): { problems: string[]; counts: { stored: number; failed: number; duplicated: number; lost: number } } {
  const problems: string[] = [];
  const md5ById = new Map(expected.map((f) => [f.id, f.md5]));
  const byId = new Map<string, FileRecord[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const extraRows = [...byId.values()].reduce((n, rs) => n + rs.length - 1, 0);
  const strangers = rows.filter((r) => !md5ById.has(r.id));
  const inStore = rows.filter((r) => r.status === 'stored' || r.status === 'skipped');
  const failed = rows.filter((r) => r.status === 'failed');
  const other = rows.filter((r) => !['stored', 'skipped', 'failed'].includes(r.status));
  const storedKeys = new Set(inStore.map((r) => r.storage_key));
  const missing = inStore.filter((r) => !objects.has(r.storage_key));
  const wrongBytes = inStore.filter((r) => objects.has(r.storage_key) && objects.get(r.storage_key) !== md5ById.get(r.id));
  // A thumbnail (`<prefix>/thumbs/<rest>.webp`) belongs to the stored file `<prefix>/<rest>`.
  const thumbnailOf = /^(.*?)thumbs\/(.+)\.webp$/;
  const owned = (k: string) => storedKeys.has(k) || (thumbnailOf.test(k) && storedKeys.has(k.replace(thumbnailOf, '$1$2')));
  const orphans = [...objects.keys()].filter((k) => !owned(k));
  const good = new Set(inStore.filter((r) => objects.get(r.storage_key) === md5ById.get(r.id)).map((r) => r.id));
  const accepted = failed.filter((r) => acceptFailure?.(r) ?? false);
  const acceptedIds = new Set(accepted.map((r) => r.id));
  const lost = expected.filter((f) => !good.has(f.id) && !acceptedIds.has(f.id));

  if (extraRows) problems.push(`${extraRows} extra catalog row(s) for one Drive file`);
  if (strangers.length) problems.push(`${strangers.length} row(s) for files not in Drive`);
  if (rows.length !== expected.length) problems.push(`catalog has ${rows.length} rows, Drive has ${expected.length} files`);
  if (missing.length) problems.push(`${missing.length} stored row(s) without their object, e.g. ${missing[0]!.storage_key}`);
  if (wrongBytes.length) problems.push(`${wrongBytes.length} object(s) whose bytes do not match Drive's md5, e.g. ${wrongBytes[0]!.storage_key}`);
  if (orphans.length) problems.push(`${orphans.length} orphan object(s) no row points at, e.g. ${orphans[0]}`);
  if (other.length) problems.push(`${other.length} row(s) left ${other[0]!.status}`);
  const refused = failed.filter((r) => !acceptedIds.has(r.id));
  if (refused.length) problems.push(`${refused.length} file(s) failed, e.g. ${refused[0]!.id}: ${refused[0]!.error}`);
  if (lost.length) problems.push(`${lost.length} Drive file(s) lost (neither stored with the right bytes nor failed for an accepted reason), e.g. ${lost[0]!.id}`);
  // The job's own counters against the rows.
  const want = failed.length ? 'completed_with_errors' : 'completed';
  if (job.status !== want) problems.push(`job ended ${job.status}${job.error ? ` (${job.error})` : ''}, expected ${want}`);
  const counters = { total: job.total, processed: job.processed, failed: job.failed, skipped: job.skipped };
  const fromRows = { total: rows.length, processed: inStore.length, failed: failed.length, skipped: rows.filter((r) => r.status === 'skipped').length };
  if (JSON.stringify(counters) !== JSON.stringify(fromRows)) problems.push(`job counters ${JSON.stringify(counters)} differ from the rows ${JSON.stringify(fromRows)}`);
  return { problems, counts: { stored: good.size, failed: failed.length, duplicated: extraRows + orphans.length, lost: lost.length } };
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

export async function saveRow(row: Row): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${row.size}-${slug(row.fault)}.json`);
  await writeFile(file, `${JSON.stringify({ ...row, at: new Date().toISOString() }, null, 2)}\n`);
  return file;
}

/** A row that could not be run (no tmpfs): in the table with its reason. */
export const notRun = (fault: string, size: Row['size'], files: number, reason: string): Row => ({
  fault,
  size,
  files_expected: files,
  stored: 0,
  failed: 0,
  duplicated: 0,
  lost: 0,
  seconds: 0,
  job_status: 'not run',
  note: reason,
  problems: [],
});

export function table(rows: Row[]): string {
  const head = '| fault | files expected | stored | failed | duplicated | lost | seconds | job | note |\n|---|---:|---:|---:|---:|---:|---:|---|---|';
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = rows.map((r) =>
    r.job_status === 'not run'
      ? `| ${cell(r.fault)} | ${r.files_expected} | – | – | – | – | – | not run | ${cell(r.note)} |`
      : `| ${cell(r.fault)} | ${r.files_expected} | ${r.stored} | ${r.failed} | ${r.duplicated} | ${r.lost} | ${r.seconds} | ${r.job_status} | ${cell([r.note, r.problems.length ? `**DEFECT**: ${r.problems.filter((p) => !p.startsWith('last service output')).join('; ')}` : ''].filter(Boolean).join(' — '))} |`,
  );
  return [head, ...lines].join('\n');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
