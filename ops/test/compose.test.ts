/**
 * docker-compose.microservices.yml: valid for compose (checked by docker-compose itself, on a fresh
 * clone without .env), and shaped for scaling: one published port, scalable workers, durable Redis,
 * health-gated start-up, container-reachable services.
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

// A fresh clone: only the compose file, no .env, and none of this shell's variables.
let dir = '';
function compose(...args: string[]) {
  const r = spawnSync('docker-compose', ['-f', FILE, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir() },
  });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

describe('docker-compose.microservices.yml', { skip }, () => {
  let services: Record<string, any> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-'));
    copyFileSync(join(ROOT, FILE), join(dir, FILE));
    const r = compose('config');
    assert.ok(r.ok, r.err);
    services = parse(r.out).services;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('validates with docker-compose, also with each profile, without a .env file', () => {
    for (const args of [[], ['--profile', 'local-cloud'], ['--profile', 'sqlserver']]) {
      const r = compose(...args, 'config', '-q');
      assert.ok(r.ok, `config ${args.join(' ')}: ${r.err}`);
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

  it('publishes exactly one port: the gateway on its default port', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p: any) => `${name}:${typeof p === 'object' ? `${p.published}->${p.target}` : p}`),
    );
    assert.deepEqual(published, [`gateway:${DEFAULT_PORTS.gateway}->${DEFAULT_PORTS.gateway}`]);
    assert.equal(services.gateway.environment.GATEWAY_HOST, '0.0.0.0');
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
      if (env.REDIS_URL) assert.equal(env.REDIS_URL, 'redis://redis:6379');
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
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), S3_BUCKET: 'from-env', REDIS_URL: 'redis://127.0.0.1:6379', CONTAINER_DATABASE_URL: 'sqlserver://sqlserver:1433;database=drive_import' },
    });
    assert.equal(r.status, 0, r.stderr);
    const s = parse(r.stdout).services;
    assert.equal(s.worker.environment.S3_BUCKET, 'from-env');
    assert.equal(s.worker.environment.REDIS_URL, 'redis://redis:6379');
    assert.equal(s['metadata-service'].environment.DATABASE_URL, 'sqlserver://sqlserver:1433;database=drive_import');
  });
});
