/**
 * What the benchmark runs besides the services: the Drive emulator as a CHILD PROCESS (so it never
 * shares an event loop with anything measured), and the env + stack for one pipeline run.
 */
import { BENCH_HEADERS, BENCH_TOKEN } from './auth.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deletePrefix, startStack, uniqueName, type S3ServerHandle, type Stack } from '@drive-import/testing';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface EmulatorSpec {
  files: number;
  /** Folders in the tree, the root included (files spread over them). */
  folders: number;
  imageBytes: number;
  latencyMs?: number;
  /** Requests per second the emulator answers before it answers 429. */
  quotaPerSecond?: number;
  seed?: number;
  /** Share of the images named like a sibling (verbatim or another case), 0..1. */
  nameCollisions?: number;
}

export interface EmulatorStats {
  requests: number;
  rateLimited: number;
  media: number;
  /** The most requests that arrived within any 1 s window so far. */
  maxPerSecond: number;
  raw: unknown;
}

export interface EmulatorChild {
  url: string;
  folderUrl: string;
  folderId: string;
  pid: number;
  ready: Record<string, unknown>;
  stats(): Promise<EmulatorStats>;
  stop(): Promise<void>;
}

/** The CLI flags for a tree (see tools/drive-emulator/src/main.ts). */
export function emulatorArgs(spec: EmulatorSpec): string[] {
  const args = ['--port', '0', '--files', String(spec.files), '--folders', String(spec.folders), '--image-bytes', String(spec.imageBytes), '--seed', String(spec.seed ?? 1)];
  if (spec.latencyMs) args.push('--latency-ms', String(spec.latencyMs));
  if (spec.quotaPerSecond) args.push('--quota', String(spec.quotaPerSecond));
  if (spec.nameCollisions) args.push('--name-collisions', String(spec.nameCollisions));
  return args;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Normalise the emulator's /__emulator/stats body to the counts the bench reports. */
export function normaliseStats(raw: unknown): EmulatorStats {
  const o = (raw ?? {}) as Record<string, unknown>;
  const byStatus = (o.by_status ?? o.byStatus ?? o.statuses ?? {}) as Record<string, unknown>;
  return {
    requests: num(o.requests ?? o.total ?? o.total_requests),
    rateLimited: num(o.rate_limited ?? o.rateLimited ?? o.throttled ?? byStatus['429']),
    media: num(o.media ?? o.media_requests),
    maxPerSecond: num(o.maxInWindow),
    // Per-file download counts and timestamps would bloat the results file.
    raw: Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'downloads' && k !== 'timestamps')),
  };
}

export async function startEmulator(spec: EmulatorSpec, timeoutMs = 180_000): Promise<EmulatorChild> {
  // BENCH_EMULATOR_ENTRY points the bench at another emulator script with the same CLI.
  const entry = process.env.BENCH_EMULATOR_ENTRY || 'tools/drive-emulator/src/main.ts';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry, ...emulatorArgs(spec)], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`drive emulator not ready within ${timeoutMs} ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (!parsed.url) continue;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          return resolve(parsed);
        } catch {
          /* not a whole JSON line yet */
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`drive emulator exited (code ${code}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
  child.stderr?.resume();
  const url = String(ready.url).replace(/\/$/, '');
  const folderUrl = String(ready.folder_url ?? ready.folderUrl);
  const folderId = String(ready.folder_id ?? ready.folderId ?? /folders\/([^/?]+)/.exec(folderUrl)?.[1]);
  return {
    url,
    folderUrl,
    folderId,
    pid: child.pid!,
    ready,
    stats: async () => normaliseStats(await (await fetch(`${url}/__emulator/stats`)).json()),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

export interface PipelineOptions {
  redisUrl: string;
  dir: string;
  emulatorUrl: string;
  s3: S3ServerHandle;
  bucket: string;
  requestsPerSecond: number;
  workers?: number;
  withWorkers?: boolean;
  extraEnv?: NodeJS.ProcessEnv;
  logs?: boolean;
}

export interface Pipeline {
  stack: Stack;
  prefix: string;
  /** Services that exited while nobody asked them to, e.g. `worker exited (code 1, signal null)`. */
  crashed: string[];
  workerPids(): number[];
  stop(): Promise<void>;
}

/** The services as processes, storing into `bucket` on the S3 server, with their own queue prefix and SQLite file. */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const prefix = uniqueName('bench');
  await o.s3.createBucket(o.bucket);
  const crashed: string[] = [];
  const stack = await startStack({
    freePorts: true,
    compiled: true, // as in production (run.ts builds once before the scenarios)
    onUnexpectedExit: (name, code, signal) => void crashed.push(`${name} exited (code ${code}, signal ${signal})`),
    stdio: o.logs ? 'inherit' : 'ignore',
    services: o.withWorkers === false ? ['metadata-service', 'storage-service', 'import-service', 'gateway'] : undefined,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      REDIS_URL: o.redisUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: `file:${join(o.dir, `${prefix}.db`)}`,
      STORAGE_PROVIDER: 's3',
      S3_ENDPOINT: o.s3.endpoint,
      S3_BUCKET: o.bucket,
      S3_REGION: o.s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: o.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
      DRIVE_API_ROOT_URL: o.emulatorUrl,
      DRIVE_MAX_REQUESTS_PER_SECOND: String(o.requestsPerSecond),
      GOOGLE_API_KEY: 'bench',
      GOOGLE_APPLICATION_CREDENTIALS: '',
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      // One token opens every door (the gateway's admin API and each service's /metrics); no rate limit.
      ADMIN_TOKEN: BENCH_TOKEN,
      INTERNAL_TOKEN: BENCH_TOKEN,
      RATE_LIMIT_PER_MINUTE: '0',
      ...o.extraEnv,
    },
  });
  for (let i = 1; i < (o.workers ?? 1) && o.withWorkers !== false; i++) await stack.add('worker');
  return {
    stack,
    prefix,
    crashed,
    workerPids: () => stack.processes.filter((p) => p.name === 'worker').map((p) => p.child.pid!),
    stop: async () => {
      await stack.stop();
      await deletePrefix(o.redisUrl, prefix).catch(() => {});
    },
  };
}

export interface Accepted {
  jobId: string;
  statusUrl: string;
  /** Wall clock (ms) just before the POST was sent. */
  postedAt: number;
}

export async function postImport(gatewayUrl: string, folderUrl: string): Promise<Accepted> {
  const postedAt = Date.now();
  const res = await fetch(`${gatewayUrl}/api/import/google-drive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...BENCH_HEADERS },
    body: JSON.stringify({ folder_url: folderUrl }),
  });
  const body = (await res.json()) as { job_id: string; status_url: string };
  if (res.status !== 202) throw new Error(`import refused: ${res.status} ${JSON.stringify(body)}`);
  return { jobId: body.job_id, statusUrl: `${gatewayUrl}${body.status_url}`, postedAt };
}
