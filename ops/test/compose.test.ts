/**
 * docker-compose.microservices.yml: valid for compose (checked by docker-compose itself, on a fresh
 * clone without .env), and shaped for scaling: one published port, scalable workers, durable Redis,
 * health-gated start-up, container-reachable services. And closed: the services on an internal
 * network, only the gateway published (on 127.0.0.1 by default), Redis with a password that every
 * REDIS_URL carries, the INTERNAL_TOKEN in every service.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_PORTS } from '@drive-import/common';
import { envPrefix, ROOT, SERVICES } from './support.ts';

const FILE = 'docker-compose.microservices.yml';
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const skip = hasCompose ? false : 'docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)';

// The two secrets the file requires (`${VAR:?...}`: no default, so no well-known password). Here they
// come from the environment, as they would from .env; test values, not secrets.
const REDIS_PASSWORD = 'test-redis-password-0123456789abcdef';
const INTERNAL_TOKEN = 'test-internal-token-0123456789abcdef';
const SECRETS = { REDIS_PASSWORD, INTERNAL_TOKEN };

// A fresh clone: only the compose file, no .env, and none of this shell's variables but the secrets.
let dir = '';
function compose(...args: string[]) {
  return composeWith(SECRETS, ...args);
}
function composeWith(vars: Record<string, string>, ...args: string[]) {
  const r = spawnSync('docker-compose', ['-f', FILE, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), ...vars },
  });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/** A published port as `host_ip:published->target`, from compose 1.29's string or v2's object form. */
function portSpec(p: any): string {
  if (typeof p === 'object') return `${p.host_ip || '0.0.0.0'}:${p.published}->${p.target}`;
  const parts = String(p).split('/')[0]!.split(':');
  const target = parts.pop();
  const published = parts.pop() ?? target;
  return `${parts.join(':') || '0.0.0.0'}:${published}->${target}`;
}
const published = (services: Record<string, any>) =>
  Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p: any) => `${name}:${portSpec(p)}`));
/** The networks a service joins (compose puts one without `networks` on `default`). */
const networksOf = (s: Record<string, any>): string[] => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: null }));
/** Services that call Google Drive, S3 or Azure and so need a way out. */
const NEEDS_EGRESS = ['import-service', 'worker', 'storage-service'];

describe('docker-compose.microservices.yml', { skip }, () => {
  let services: Record<string, any> = {};
  let networks: Record<string, any> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-'));
    copyFileSync(join(ROOT, FILE), join(dir, FILE));
    const r = compose('config');
    assert.ok(r.ok, r.err);
    const config = parse(r.out);
    services = config.services;
    networks = config.networks ?? {};
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('validates with docker-compose, also with each profile, without a .env file', () => {
    for (const args of [[], ['--profile', 'local-cloud'], ['--profile', 'sqlserver']]) {
      const r = compose(...args, 'config', '-q');
      assert.ok(r.ok, `config ${args.join(' ')}: ${r.err}`);
    }
  });

  it('refuses to run without REDIS_PASSWORD or without INTERNAL_TOKEN, naming the missing one', () => {
    for (const missing of Object.keys(SECRETS) as Array<keyof typeof SECRETS>) {
      const { [missing]: _, ...rest } = SECRETS;
      for (const vars of [rest, { ...rest, [missing]: '' }]) {
        const r = composeWith(vars, 'config', '-q');
        assert.ok(!r.ok, `config passed with ${missing}=${vars[missing as keyof typeof vars] ?? '(unset)'}`);
        assert.match(r.err, new RegExp(`set ${missing}`), r.err);
      }
    }
  });

  it('runs every service, the optional stores and SQL Server only under their profiles', () => {
    for (const s of ['redis', ...SERVICES]) {
      assert.ok(services[s], `service ${s} missing`);
      assert.equal(services[s].profiles, undefined, `${s} must start by default`);
    }
    for (const s of ['minio', 'minio-init', 'azurite']) assert.deepEqual(services[s]?.profiles, ['local-cloud'], s);
    for (const s of ['sqlserver', 'sqlserver-init']) assert.deepEqual(services[s]?.profiles, ['sqlserver'], s);
  });

  it('publishes exactly one port: the gateway on its default port, on 127.0.0.1 unless told otherwise', () => {
    const port = DEFAULT_PORTS.gateway;
    assert.deepEqual(published(services), [`gateway:127.0.0.1:${port}->${port}`]);
    assert.equal(services.gateway.environment.GATEWAY_HOST, '0.0.0.0');
    const open = composeWith({ ...SECRETS, GATEWAY_BIND: '0.0.0.0', GATEWAY_PORT: '8080' }, 'config');
    assert.ok(open.ok, open.err);
    assert.deepEqual(published(parse(open.out).services), [`gateway:0.0.0.0:8080->${port}`], 'GATEWAY_BIND / GATEWAY_PORT override');
  });

  it('puts every service on an internal network, and only the gateway on a network with a published port', () => {
    const internal = Object.keys(networks).filter((n) => networks[n]?.internal === true);
    assert.ok(internal.length > 0, 'no network with internal: true');
    const members = (n: string) => Object.keys(services).filter((s) => networksOf(services[s]).includes(n));
    for (const [name, s] of Object.entries(services)) {
      const nets = networksOf(s);
      assert.ok(!nets.includes('default'), `${name} is on the default (non-internal) network`);
      assert.ok(nets.some((n) => internal.includes(n)), `${name} is on no internal network`);
      for (const n of nets) assert.ok(networks[n] !== undefined, `${name}: network ${n} is not declared`);
    }
    // Service-to-service traffic: everything compose runs shares one internal network.
    assert.ok(internal.some((n) => members(n).length === Object.keys(services).length), 'no internal network joins all services');
    // The outside: the gateway alone on the network of its port; outbound only for what calls the clouds.
    for (const n of Object.keys(networks).filter((x) => !internal.includes(x))) {
      const m = members(n);
      if (m.includes('gateway')) assert.deepEqual(m, ['gateway'], `network ${n} carries the gateway's port: the gateway alone`);
      else for (const s of m) assert.ok(NEEDS_EGRESS.includes(s), `${s} is on the non-internal network ${n} but needs no egress`);
    }
    assert.ok(networksOf(services.gateway).some((n) => !internal.includes(n)), 'the gateway needs a non-internal network for its published port');
    for (const s of NEEDS_EGRESS) assert.ok(networksOf(services[s]).some((n) => !internal.includes(n)), `${s} cannot reach Drive / S3 / Azure`);
    for (const s of ['redis', 'metadata-service']) assert.ok(networksOf(services[s]).every((n) => internal.includes(n)), `${s} must be internal only`);
  });

  it('runs Redis with a password that the healthcheck and every REDIS_URL use', () => {
    const r = services.redis;
    const cmd = [r.command].flat();
    assert.equal(cmd[cmd.indexOf('--requirepass') + 1], REDIS_PASSWORD, 'redis-server --requirepass <REDIS_PASSWORD>');
    assert.equal(r.environment?.REDISCLI_AUTH, REDIS_PASSWORD, 'redis-cli in the healthcheck authenticates (REDISCLI_AUTH)');
    assert.match([r.healthcheck.test].flat().join(' '), /redis-cli ping \| grep -q PONG/, 'a NOAUTH reply must not count as healthy');
    for (const [name, s] of Object.entries(services)) {
      const url = s.environment?.REDIS_URL;
      if (url) assert.equal(url, `redis://:${REDIS_PASSWORD}@redis:6379`, `${name}: REDIS_URL without the password`);
    }
    for (const s of ['gateway', 'import-service', 'metadata-service', 'worker']) assert.ok(services[s].environment.REDIS_URL, `${s} has no REDIS_URL`);
  });

  it('gives every service the INTERNAL_TOKEN, and the gateway its optional ADMIN_TOKEN', () => {
    for (const s of SERVICES) assert.equal(services[s].environment.INTERNAL_TOKEN, INTERNAL_TOKEN, `${s}: INTERNAL_TOKEN`);
    assert.ok(Object.hasOwn(services.gateway.environment, 'ADMIN_TOKEN'), 'gateway: ADMIN_TOKEN');
  });

  it('lets the worker scale: no container_name, no ports, a stop grace longer than its shutdown grace', () => {
    const w = services.worker;
    assert.equal(w.container_name, undefined);
    assert.equal(w.ports, undefined);
    for (const [name, s] of Object.entries(services)) assert.equal(s.container_name, undefined, `${name} has a container_name`);
    const stopSeconds = Number(/^(\d+)s$/.exec(String(w.stop_grace_period))?.[1]);
    const graceMs = Number(w.environment.WORKER_SHUTDOWN_GRACE_MS);
    assert.ok(stopSeconds * 1000 >= graceMs + 15_000, `stop_grace_period ${w.stop_grace_period} vs WORKER_SHUTDOWN_GRACE_MS ${graceMs}`);
  });

  it('runs Redis with noeviction and AOF on a named volume', () => {
    const cmd = [services.redis.command].flat().join(' ');
    assert.match(cmd, /--maxmemory-policy noeviction/);
    assert.match(cmd, /--appendonly yes/);
    assert.ok(services.redis.volumes.some((v: any) => (typeof v === 'object' ? `${v.source}:${v.target}` : v).startsWith('redis-data:/data')));
  });

  it('builds each service from the one Dockerfile by SERVICE arg and health-checks it', () => {
    for (const s of SERVICES) {
      assert.equal(services[s].build.args.SERVICE, s, `${s} build arg`);
      assert.equal(services[s].restart, 'unless-stopped', `${s} restart`);
    }
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === 'no') continue; // one-shot init containers exit when done
      assert.ok(s.healthcheck?.test, `${name} has no healthcheck`);
    }
  });

  it('starts services only after what they call is healthy', () => {
    const needs: Record<string, string[]> = {
      gateway: ['import-service', 'metadata-service', 'storage-service'],
      'import-service': ['redis', 'metadata-service'],
      worker: ['redis', 'metadata-service'],
      'minio-init': ['minio'],
      'sqlserver-init': ['sqlserver'],
    };
    for (const [name, deps] of Object.entries(needs)) {
      for (const d of deps) assert.equal(services[name].depends_on?.[d]?.condition, 'service_healthy', `${name} -> ${d}`);
    }
    for (const [name, s] of Object.entries(services)) {
      for (const [d, c] of Object.entries<any>(s.depends_on ?? {})) {
        assert.ok(c.condition, `${name} -> ${d} has no condition`);
        assert.ok(services[d].healthcheck, `${name} waits on ${d}, which has no healthcheck`);
      }
    }
  });

  it('wires the services by compose name, on all interfaces, with SQLite and objects on volumes', () => {
    // compose 1.29 prints "source:target:mode", compose v2 objects: accept both.
    const mounts = (s: string) => (services[s].volumes ?? []).map((v: any) => (typeof v === 'object' ? v : { source: v.split(':')[0], target: v.split(':')[1] }));
    for (const s of SERVICES) {
      const env = services[s].environment;
      assert.equal(env[`${envPrefix(s)}_HOST`], '0.0.0.0', `${s} must listen on 0.0.0.0 in a container`);
      if (env.REDIS_URL) assert.equal(new URL(env.REDIS_URL).host, 'redis:6379');
      for (const t of SERVICES) {
        const url = env[`${envPrefix(t)}_URL`];
        if (url) assert.equal(url, `http://${t}:${DEFAULT_PORTS[t]}`, `${s}: ${envPrefix(t)}_URL`);
      }
    }
    assert.match(services['metadata-service'].environment.DATABASE_URL, /^file:\/data\/db\//);
    assert.equal(mounts('metadata-service').find((v: any) => v.target === '/data/db')?.source, 'metadata-db');
    const mount = (s: string) => mounts(s).find((v: any) => v.target === '/data/objects')?.source;
    assert.equal(mount('worker'), 'objects');
    assert.equal(mount('storage-service'), 'objects', 'the local store must be the same volume for worker and storage-service');
    assert.equal(services.worker.environment.LOCAL_STORAGE_DIR, '/data/objects');
  });

  it('takes settings from .env but never the host-only addresses of an `npm start` .env', () => {
    const r = spawnSync('docker-compose', ['-f', FILE, 'config'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), ...SECRETS, S3_BUCKET: 'from-env', REDIS_URL: 'redis://127.0.0.1:6379', CONTAINER_DATABASE_URL: 'sqlserver://sqlserver:1433;database=drive_import' },
    });
    assert.equal(r.status, 0, r.stderr);
    const s = parse(r.stdout).services;
    assert.equal(s.worker.environment.S3_BUCKET, 'from-env');
    assert.equal(s.worker.environment.REDIS_URL, `redis://:${REDIS_PASSWORD}@redis:6379`);
    assert.equal(s['metadata-service'].environment.DATABASE_URL, 'sqlserver://sqlserver:1433;database=drive_import');
  });
});
