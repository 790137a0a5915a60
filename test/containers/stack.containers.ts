/**
 * The system under a real container engine (npm run test:containers; not part of `npm test`):
 * the images built here (ops/images/build.sh: Debian from debootstrap, Node 24 from npm, the real
 * Dockerfile), docker-compose.microservices.yml brought up as it is by docker-compose through
 * podman's Docker API, with the demo profile's Drive emulator. Through the published gateway port
 * only: the demo folder, then `up --scale worker=3` and a 3,000-file folder while one worker is
 * killed with SIGKILL. Checks the job, the store, each worker's share, the one published port,
 * non-root read-only containers, and that `down` + `up` keeps the data.
 *
 * Needs root, podman (with runc), docker-compose and debootstrap (apt-get install podman runc
 * docker-compose debootstrap; .ci/run installs them). podman runs no healthchecks without systemd,
 * so this test runs them (`podman healthcheck run`) as systemd's timers would: compose's
 * `depends_on: condition: service_healthy` waits on them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FileListResponse, JobStatusResponse } from '@drive-import/common';
import { localObjects } from '../e2e/support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = 'drive-import-containers';
const SERVICES = ['gateway', 'import-service', 'metadata-service', 'storage-service', 'worker', 'drive-emulator'] as const;
const IMAGE_LIMIT_BYTES = 250_000_000;
const DEMO_FILES = 200;
const BIG_FOLDER_FILES = 3000;
const CONTAINERS_CONF = process.env.CONTAINERS_CONF ?? join(ROOT, 'ops/images/containers.conf');

const missing = ['podman', 'docker-compose', 'runc'].filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
if (process.getuid?.() !== 0) missing.push('root');

// Test values, not secrets: this stack lives for the length of the test on the host's loopback.
const secrets = {
  REDIS_PASSWORD: randomBytes(16).toString('hex'),
  INTERNAL_TOKEN: randomBytes(24).toString('hex'),
  ADMIN_TOKEN: randomBytes(24).toString('hex'),
};

const dir = mkdtempSync(join(tmpdir(), 'containers-'));
const socket = join(dir, 'podman.sock');
let gatewayPort = 0;
let apiService: ChildProcess | undefined;
let healthTimer: NodeJS.Timeout | undefined;
const report: Record<string, unknown> = {};
const demoSeed = 1 + Math.floor(Math.random() * 1e6);

interface Run {
  code: number | null;
  out: string;
  err: string;
}
/** A command, asynchronously (the healthcheck driver keeps running meanwhile). */
function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: options.env ?? { ...process.env, CONTAINERS_CONF } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (options.echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
async function must(cmd: string, args: string[], options?: { env?: NodeJS.ProcessEnv; echo?: boolean }): Promise<string> {
  const r = await run(cmd, args, options);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}\n${r.err.slice(-4000)}`);
  return r.out;
}
const podman = (...args: string[]) => must('podman', args);

function composeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dir,
    DOCKER_HOST: `unix://${socket}`,
    COMPOSE_PROJECT_NAME: PROJECT,
    COMPOSE_PROFILES: 'demo',
    // The images ops/images/build.sh made (no registry): Redis from Debian's package.
    REDIS_IMAGE: 'localhost/drive-import/redis:7',
    DRIVE_API_ROOT_URL: 'http://drive-emulator:5010/',
    DEMO_FILES: String(DEMO_FILES),
    // Its root folder's id follows from the seed: a random one tells this stack's emulator apart.
    DEMO_SEED: String(demoSeed),
    GATEWAY_PORT: String(gatewayPort),
    // Short enough that the killed worker's batches come back within the test.
    WORKER_SHUTDOWN_GRACE_MS: '10000',
    ...secrets,
  };
}
/** docker-compose through podman's API; what it did (Creating / Recreating ...) goes to stderr. */
async function compose(...args: string[]): Promise<string> {
  const r = await run('docker-compose', ['-f', 'docker-compose.microservices.yml', ...args], { env: composeEnv() });
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}\n${r.err.slice(-4000)}`);
  return r.err;
}

async function containers(service?: string): Promise<string[]> {
  const filters = ['--filter', `label=com.docker.compose.project=${PROJECT}`];
  if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
  return (await podman('ps', '-q', '--no-trunc', ...filters)).split('\n').filter(Boolean);
}
async function inspect(id: string): Promise<any> {
  return JSON.parse(await podman('inspect', id))[0];
}
const serviceOf = (c: any): string => c.Config.Labels['com.docker.compose.service'];

// ---- healthchecks: what systemd's timers do for podman elsewhere ----------------------------------
/** Container id -> ms from its start to its first passing healthcheck (its cold start, +-1 s). */
const coldStartMs = new Map<string, { service: string; ms: number }>();
let healthRunning = false;
async function runHealthchecks() {
  if (healthRunning) return;
  healthRunning = true;
  try {
    const ids = await containers().catch(() => []);
    await Promise.all(
      ids.map(async (id) => {
        const r = await run('podman', ['healthcheck', 'run', id]);
        if (r.code !== 0 || coldStartMs.has(id)) return;
        const c = await inspect(id).catch(() => undefined);
        if (c) coldStartMs.set(id, { service: serviceOf(c), ms: Date.now() - Date.parse(c.State.StartedAt) });
      }),
    );
  } finally {
    healthRunning = false;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
}

// ---- the gateway, from the host -------------------------------------------------------------------
async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}
const gatewayHealthy = async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health`, { signal: AbortSignal.timeout(3000) })).ok;
async function startImport(folderId: string): Promise<string> {
  // A 503 while a service compose just (re)started is not yet reachable: ask again, for a minute.
  const r = await until('the gateway to take the import', 60_000, async () => {
    const res = await api<{ job_id: string }>('POST', '/api/import/google-drive', { folder_url: `https://drive.google.com/drive/folders/${folderId}` });
    if (res.status === 503) throw new Error(JSON.stringify(res.body));
    return res;
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.job_id;
}
const jobStatus = async (jobId: string) => (await api<JobStatusResponse>('GET', `/api/import/status/${jobId}`)).body;
const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);
const finished = (jobId: string, timeoutMs: number) =>
  until(`job ${jobId} to finish`, timeoutMs, async () => {
    const s = await jobStatus(jobId);
    return TERMINAL.has(s.status) ? s : undefined;
  });

/** Every file of a job through the gateway, a cursor page at a time. */
async function jobFiles(jobId: string) {
  const files: FileListResponse['files'] = [];
  let cursor: string | null = null;
  do {
    const page: { body: FileListResponse } = await api<FileListResponse>('GET', `/api/import/jobs/${jobId}/files?per_page=1000${cursor ? `&cursor=${cursor}` : ''}`);
    for (const f of page.body.files) files.push(f);
    cursor = page.body.next_cursor;
  } while (cursor);
  return files;
}

// ---- inside the containers (their ports are not published) --------------------------------------
async function emulatorScript(script: string): Promise<any> {
  const [id] = await containers('drive-emulator');
  assert.ok(id, 'no drive-emulator container');
  return JSON.parse(await podman('exec', id!, 'node', '--input-type=module', '-e', script));
}
const emulatorTree = () => emulatorScript("console.log(JSON.stringify(await (await fetch('http://127.0.0.1:5010/__emulator/tree')).json()))");

/** files_total{status="stored"} from a worker's /metrics (it needs INTERNAL_TOKEN, which the container has). */
async function workerStored(id: string): Promise<number> {
  const text = await podman(
    'exec', id, 'node', '-e',
    "fetch('http://127.0.0.1:5004/metrics',{headers:{authorization:'Bearer '+process.env.INTERNAL_TOKEN}}).then(r=>r.text()).then(t=>process.stdout.write(t))",
  );
  const line = text.split('\n').find((l) => l.startsWith('drive_import_worker_files_total{') && l.includes('status="stored"'));
  return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
}

/** The copy batches Redis keeps (BullMQ's completed set): which worker (processedBy, stored as `pb`) posted how many files. */
async function completedBatches(): Promise<Array<{ worker: string; jobId: string; files: number }>> {
  const [redis] = await containers('redis');
  const out = await podman(
    'exec', redis!, 'sh', '-c',
    'redis-cli --no-auth-warning ZRANGE drive-import:copy:completed 0 -1 | while read -r id; do redis-cli --no-auth-warning --raw HMGET "drive-import:copy:$id" pb data returnvalue | tr "\\n" "\\t"; echo; done',
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [worker, data, returnvalue] = line.split('\t');
      return { worker: worker!, jobId: JSON.parse(data!).job_id, files: JSON.parse(returnvalue!).posted };
    });
}

/** The host's loopback and its own (non-container) IPv4 addresses. */
function hostAddresses(): string[] {
  const out = ['127.0.0.1'];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (/^(podman|cni|veth|docker|br-)/.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/** Redis's first reply line to `AUTH <password>` at host:6379 ('' when nothing answers within 2 s). */
function redisAuth(host: string, password: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port: 6379, timeout: 2000 });
    let reply = '';
    const done = (v: string) => {
      s.destroy();
      resolve(v);
    };
    s.on('connect', () => s.write(`AUTH ${password}\r\n`));
    s.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) done(reply.split('\r\n')[0]!);
    });
    s.on('timeout', () => done(''));
    s.on('error', () => done(''));
  });
}
/** The podman API answers on its socket. */
const ping = () =>
  new Promise<boolean>((resolve) => {
    request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    })
      .on('error', () => resolve(false))
      .end();
  });
const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe('the stack in containers (podman)', { skip: missing.length ? `missing: ${missing.join(', ')}` : false }, () => {
  let demoJob = '';
  let bigJob = '';
  let objectsDir = '';
  let objectsAfterImport = 0;

  before(async () => {
    gatewayPort = await freePort();
    apiService = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: { ...process.env, CONTAINERS_CONF }, stdio: 'ignore' });
    await until('podman API socket', 30_000, async () => existsSync(socket) && (await ping()));
    healthTimer = setInterval(() => void runHealthchecks(), 2000);
    // A clean slate: a stack left over by an interrupted run, with its volumes.
    await compose('down', '-v', '--remove-orphans');
  });

  after(async () => {
    if (healthTimer) clearInterval(healthTimer);
    if (process.env.KEEP_STACK !== '1' && apiService) await run('docker-compose', ['-f', 'docker-compose.microservices.yml', 'down', '-v', '--remove-orphans'], { env: composeEnv() });
    apiService?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    console.log(`containers report: ${JSON.stringify(report, null, 2)}`);
  });

  it('builds every image here (Node 24 from npm, Redis from Debian), each runtime image within 250 MB', { timeout: 60 * 60_000 }, async () => {
    const started = Date.now();
    await must(join(ROOT, 'ops/images/build.sh'), [], { echo: true });
    report.build_seconds = Math.round((Date.now() - started) / 1000);
    const sizes: Record<string, number> = {};
    for (const s of SERVICES) {
      const image = await inspect(`localhost/drive-import/${s}:latest`);
      sizes[s] = image.Size;
      // The build stage's CA volume leaves at most an empty mount point behind, never the bundle.
      const ca = await run('podman', ['run', '--rm', '--entrypoint', 'sh', `localhost/drive-import/${s}:latest`, '-c', 'test ! -s /run/build-ca/ca.pem && node --version']);
      assert.equal(ca.code, 0, `${s}: ${ca.err}`);
      assert.match(ca.out, /^v24\./, `${s} runs Node 24`);
      // Only what the service runs: no tests, no TypeScript sources, no test support, no tsx.
      const files = await must('podman', ['run', '--rm', '--entrypoint', 'sh', `localhost/drive-import/${s}:latest`, '-c', 'cd /app && find . -name "*.ts" -not -path "*/node_modules/*" | head -5; ls node_modules; ls node_modules/@drive-import 2>/dev/null; ls -d packages test 2>/dev/null; true']);
      assert.doesNotMatch(files, /\.ts\n|^(tsx|typescript|esbuild|vite|@drive-import)$|^packages$|^test$/m, `${s} ships:\n${files}`);
    }
    sizes.redis = (await inspect('localhost/drive-import/redis:7')).Size;
    report.image_sizes_mb = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Math.round(v / 1e5) / 10]));
    for (const s of SERVICES) assert.ok(sizes[s]! <= IMAGE_LIMIT_BYTES, `${s} is ${sizes[s]} bytes`);
  });

  it('brings the compose file up with the demo profile and imports the demo folder through the gateway port', { timeout: 20 * 60_000 }, async () => {
    const started = Date.now();
    await compose('up', '-d', '--no-build');
    await until('the gateway to answer /health', 5 * 60_000, gatewayHealthy);
    report.stack_up_seconds = Math.round((Date.now() - started) / 1000);
    // The web app, built into the gateway's image.
    const page = await fetch(`http://127.0.0.1:${gatewayPort}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<script[^>]+src="[^"]+\.js"/, 'the page loads its bundle');
    const tree = await emulatorTree();
    assert.equal(tree.expectedImages, DEMO_FILES, JSON.stringify(tree));
    demoJob = await startImport(tree.rootId);
    const done = await finished(demoJob, 10 * 60_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.errors.slice(0, 3)));
    assert.equal(done.processed, DEMO_FILES);
    assert.equal(done.failed, 0);
  });

  it('runs every container as non-root on a read-only root filesystem, and publishes the gateway port alone', { timeout: 5 * 60_000 }, async () => {
    const ids = await containers();
    const seen = new Set<string>();
    const hostPorts: string[] = [];
    for (const id of ids) {
      const c = await inspect(id);
      const service = serviceOf(c);
      seen.add(service);
      assert.equal(c.HostConfig.ReadonlyRootfs, true, `${service}: read_only`);
      const probe = await run('podman', ['exec', id, 'sh', '-c', 'id -u; touch /app/probe /probe 2>&1; touch /tmp/probe && echo tmp-writable']);
      const [uid] = probe.out.split('\n');
      assert.notEqual(uid, '0', `${service} runs as root`);
      assert.match(probe.out, /Read-only file system/, `${service}: ${probe.out}`);
      assert.match(probe.out, /tmp-writable/, `${service}: /tmp`);
      for (const [port, bindings] of Object.entries<any>(c.NetworkSettings.Ports ?? {})) {
        for (const b of bindings ?? []) if (b.HostPort) hostPorts.push(`${service}:${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`);
      }
    }
    for (const s of ['redis', ...SERVICES]) assert.ok(seen.has(s), `no ${s} container`);
    assert.deepEqual(hostPorts, [`gateway:127.0.0.1:${gatewayPort}->5000/tcp`]);
    assert.equal(await gatewayHealthy(), true);
    // And on the host's own addresses no other service of this stack answers on its port. Other
    // processes on this host may listen there (a dev Redis, `npm start`), so each probe asks for
    // something only this stack's service grants: its INTERNAL_TOKEN, its Redis password, its tree.
    const tree = await emulatorTree();
    for (const address of hostAddresses()) {
      for (const [service, port] of [['import-service', 5001], ['metadata-service', 5002], ['storage-service', 5003], ['worker', 5004]] as const) {
        const status = await fetch(`http://${address}:${port}/metrics`, { headers: { authorization: `Bearer ${secrets.INTERNAL_TOKEN}` }, signal: AbortSignal.timeout(3000) }).then(
          (r) => r.status,
          () => 0,
        );
        assert.notEqual(status, 200, `${service} answers on the host at ${address}:${port}`);
      }
      assert.notEqual(await redisAuth(address, secrets.REDIS_PASSWORD), '+OK', `this stack's Redis answers on the host at ${address}:6379`);
      const hostTree = await fetch(`http://${address}:5010/__emulator/tree`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.json() as Promise<{ rootId?: string }>,
        () => ({}) as { rootId?: string },
      );
      assert.notEqual(hostTree.rootId, tree.rootId, `this stack's Drive emulator answers on the host at ${address}:5010`);
    }
  });

  it('scales to three workers, survives one killed with SIGKILL mid-import, and copies a 3,000-file folder once', { timeout: 40 * 60_000 }, async () => {
    const scaleStarted = Date.now();
    const scaled = await compose('up', '-d', '--no-build', '--scale', 'worker=3');
    report.scale_compose_output = scaled.split('\n').filter((l) => /Creating|Recreating|Starting/.test(l) && !l.includes('...  ')).map((l) => l.trim());
    const workers = await containers('worker');
    assert.equal(workers.length, 3, `workers: ${workers.length}`);
    await until('three healthy workers', 5 * 60_000, async () => workers.every((id) => coldStartMs.has(id)));
    report.scale_to_3_seconds = Math.round((Date.now() - scaleStarted) / 1000);
    await until('the gateway to answer /health', 5 * 60_000, gatewayHealthy);

    const { folder } = await emulatorScript(`
      const post = async (b) => {
        const r = await fetch('http://127.0.0.1:5010/__emulator/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
        if (r.status !== 201) throw new Error(await r.text());
        return (await r.json()).id;
      };
      const folder = await post({ name: 'three-thousand', type: 'folder' });
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < ${BIG_FOLDER_FILES}) { const i = next++; await post({ parentId: folder, name: 'photo-' + String(i).padStart(4, '0') + '.png', type: 'image' }); }
      }));
      console.log(JSON.stringify({ folder }));`);

    const importStarted = Date.now();
    bigJob = await startImport(folder);
    // Mid-import: a quarter of the files in, every worker busy. Its metrics die with it: read them first.
    await until('a quarter of the folder copied', 10 * 60_000, async () => (await jobStatus(bigJob)).processed >= BIG_FOLDER_FILES / 4);
    const victim = workers[1]!;
    const victimStoredBeforeKill = await workerStored(victim);
    const pid = String((await inspect(victim)).State.Pid);
    assert.equal(spawnSync('kill', ['-s', 'KILL', pid]).status, 0, `kill -s KILL ${pid}`);
    const atKill = (await jobStatus(bigJob)).processed;

    const done = await finished(bigJob, 20 * 60_000);
    report.big_import_seconds = Math.round((Date.now() - importStarted) / 1000);
    assert.equal(done.status, 'completed', JSON.stringify(done.errors.slice(0, 3)));
    assert.equal(done.total, BIG_FOLDER_FILES);
    assert.equal(done.processed, BIG_FOLDER_FILES);
    assert.equal(done.failed, 0);
    assert.ok(atKill < BIG_FOLDER_FILES, `the kill came after the import (${atKill} done)`);

    // Every file once in the store: one record per Drive file, distinct keys, each an object.
    const files = await jobFiles(bigJob);
    assert.equal(files.length, BIG_FOLDER_FILES);
    assert.equal(new Set(files.map((f) => f.id)).size, BIG_FOLDER_FILES);
    const keys = new Set(files.map((f) => f.storage_key));
    assert.equal(keys.size, BIG_FOLDER_FILES, 'distinct storage keys');
    objectsDir = (await podman('volume', 'inspect', `${PROJECT}_objects`, '--format', '{{.Mountpoint}}')).trim();
    const objects = await localObjects(objectsDir);
    for (const k of keys) assert.ok(objects.has(k), `no object for ${k}`);
    assert.equal(objects.size, DEMO_FILES + BIG_FOLDER_FILES, 'objects in the store: one per file of both imports');
    // What the SIGKILL cut mid-write stays as `.tmp-<uuid>` (never an object: no key names one) until a
    // later first write sweeps temp files older than an hour.
    report.upload_temp_files_left_by_the_kill = readdirSync(objectsDir, { recursive: true, encoding: 'utf8' }).filter((n) => /(^|\/)\.tmp-/.test(n)).length;
    objectsAfterImport = objects.size;

    // Each worker's share: the batches Redis keeps record who posted them (BullMQ's processedBy,
    // the worker's <hostname>-<pid>); /metrics counts what each copied since it (re)started.
    const batches = (await completedBatches()).filter((b) => b.jobId === bigJob);
    const byWorker = new Map<string, { batches: number; files: number }>();
    for (const b of batches) {
      const w = byWorker.get(b.worker) ?? { batches: 0, files: 0 };
      w.batches += 1;
      w.files += b.files;
      byWorker.set(b.worker, w);
    }
    const hostnames = new Map<string, string>();
    for (const id of workers) hostnames.set((await inspect(id)).Config.Hostname, id);
    const shares: Record<string, unknown> = {};
    for (const [worker, share] of byWorker) {
      const id = hostnames.get(worker.replace(/-\d+(-\d+)?$/, ''));
      shares[worker] = { ...share, container: id?.slice(0, 12), killed: id === victim };
    }
    const metrics: Record<string, number> = {};
    for (const id of workers) metrics[id.slice(0, 12)] = await workerStored(id).catch(() => -1);
    report.worker_shares = shares;
    report.worker_metrics_stored_at_end = metrics;
    report.victim = { container: victim.slice(0, 12), stored_before_kill: victimStoredBeforeKill, job_processed_at_kill: atKill };
    const containersWithShare = new Set(Object.values(shares).map((s: any) => s.container).filter(Boolean));
    assert.equal(containersWithShare.size, 3, `each of the three workers posted batches: ${JSON.stringify(shares)}`);
    assert.ok(victimStoredBeforeKill > 0, 'the killed worker had copied files before the kill');
  });

  it('keeps jobs, records, queue and objects over `down` and `up` (volumes)', { timeout: 20 * 60_000 }, async () => {
    const batchesBefore = (await completedBatches()).length;
    await compose('down');
    assert.deepEqual(await containers(), []);
    coldStartMs.clear();
    await compose('up', '-d', '--no-build', '--scale', 'worker=3');
    await until('the gateway to answer /health', 5 * 60_000, gatewayHealthy);
    for (const [jobId, total] of [[demoJob, DEMO_FILES], [bigJob, BIG_FOLDER_FILES]] as const) {
      const s = await jobStatus(jobId);
      assert.equal(s.status, 'completed', jobId);
      assert.equal(s.processed, total, jobId);
    }
    assert.equal((await jobFiles(bigJob)).length, BIG_FOLDER_FILES);
    assert.equal((await localObjects(objectsDir)).size, objectsAfterImport);
    assert.equal((await completedBatches()).length, batchesBefore, 'Redis (AOF on its volume) kept the batch records');
    await until('every container healthy', 5 * 60_000, async () => (await containers()).every((id) => coldStartMs.has(id)));
    const cold: Record<string, number> = {};
    for (const { service, ms } of coldStartMs.values()) cold[service] = Math.max(cold[service] ?? 0, Math.round(ms / 100) / 10);
    report.cold_start_seconds = cold;
  });
});
