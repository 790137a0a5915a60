/**
 * Dockerfile and .dockerignore, checked without a Docker engine: the stages and their order, the
 * SERVICE argument, every workspace manifest copied before `npm ci`, the Prisma generate step, a
 * non-root runtime, and a HEALTHCHECK command that is run here against a real HTTP server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_PORTS } from '@drive-import/common';
import { envPrefix, read, ROOT, SERVICES, tsFiles } from './support.ts';

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(read('Dockerfile'));
const stages = dockerfile.flatMap((i, n) => (i.op === 'FROM' ? [{ n, name: /\bAS\s+(\S+)/i.exec(i.args)?.[1], image: i.args.split(' ')[0] }] : []));
const runtime = dockerfile.slice(stages.at(-1)!.n);
const build = dockerfile.slice(stages[0]!.n, stages.at(-1)!.n);
const dockerignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const manifest = (dir: string) => JSON.parse(read(`${dir}/package.json`)) as { name: string; dependencies?: Record<string, string> };

/** The workspaces the services run on: each service and its production dependencies, followed through the workspaces. */
function runtimeWorkspaces(): Set<string> {
  const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
  const byName = new Map(workspaces.map((w) => [manifest(w).name, w]));
  const out = new Set<string>();
  const visit = (dir: string) => {
    if (out.has(dir)) return;
    out.add(dir);
    for (const dep of Object.keys(manifest(dir).dependencies ?? {})) {
      const w = byName.get(dep);
      if (w) visit(w);
    }
  };
  for (const s of SERVICES) visit(s);
  return out;
}

const healthcheckScript = () => {
  const hc = runtime.find((i) => i.op === 'HEALTHCHECK')!;
  const cmd = JSON.parse(hc.args.slice(hc.args.indexOf('CMD') + 3).trim()) as string[];
  assert.deepEqual(cmd.slice(0, 2), ['node', '-e']);
  return cmd[2]!;
};

describe('Dockerfile', () => {
  it('builds in a toolchain stage and runs from a slim Node 24 stage without it', () => {
    assert.deepEqual(stages.map((s) => s.name), ['build', 'runtime']);
    for (const arg of ['NODE_IMAGE', 'RUNTIME_IMAGE']) {
      const image = new RegExp(`ARG ${arg}=(\\S+)`).exec(read('Dockerfile'))?.[1];
      assert.match(image ?? '', /^node:24-(bookworm-)?slim$/, arg);
    }
    assert.deepEqual(stages.map((s) => s.image), ['${NODE_IMAGE}', '${RUNTIME_IMAGE}']);
    assert.ok(build.some((i) => i.op === 'RUN' && /python3/.test(i.args) && /g\+\+/.test(i.args)), 'compilers for better-sqlite3');
    assert.ok(!runtime.some((i) => i.op === 'RUN' && /apt-get/.test(i.args)), 'no toolchain in the runtime stage');
  });

  it('takes SERVICE as a build argument, accepts the five services and the Drive emulator, and runs its bundle', () => {
    const check = build.find((i) => i.op === 'RUN' && i.args.startsWith('case "$SERVICE"'))!;
    const labels = [...check.args.split(' esac')[0]!.matchAll(/(?:^case "\$SERVICE" in|;;)\s+([\w|-]+)\)/g)].map((m) => m[1]!);
    const accepted = labels.flatMap((l) => l.split('|'));
    assert.deepEqual(accepted.sort(), [...SERVICES, 'drive-emulator'].sort());
    for (const s of SERVICES) assert.ok(existsSync(join(ROOT, s, 'src', 'main.ts')), `${s}/src/main.ts`);
    assert.ok(runtime.some((i) => i.op === 'ARG' && i.args === 'SERVICE'));
    // The compiled bundle (npm run build), exec'd so node is PID 1; arguments pass through.
    const entrypoint = JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    assert.deepEqual(entrypoint, ['sh', '-c', 'exec node "$SERVICE/dist/main.js" "$@"', '--']);
    assert.ok(build.some((i) => i.op === 'RUN' && /node scripts\/build\.mjs/.test(i.args)), 'the bundles are built in the image');
    assert.ok(existsSync(join(ROOT, 'scripts/build.mjs')));
    // The full install must not depend on SERVICE, or each image would recompile better-sqlite3.
    const argAt = build.findIndex((i) => i.op === 'ARG' && i.args === 'SERVICE');
    const ciAt = build.findIndex((i) => i.op === 'RUN' && i.args.startsWith('npm ci'));
    assert.ok(ciAt >= 0 && argAt > ciAt, 'ARG SERVICE after the full npm ci');
  });

  it('copies every workspace manifest before npm ci, and generates the Prisma client after the sources', () => {
    const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const ciAt = build.findIndex((i) => i.op === 'RUN' && i.args.startsWith('npm ci'));
    const copied = build.slice(0, ciAt).filter((i) => i.op === 'COPY').map((i) => i.args.split(' ')[0]);
    for (const w of workspaces) assert.ok(copied.includes(`${w}/package.json`), `COPY ${w}/package.json`);
    const sourcesAt = build.findIndex((i) => i.op === 'COPY' && i.args === '. .');
    const genAt = build.findIndex((i) => i.op === 'RUN' && i.args.includes('npm run generate --workspace @drive-import/metadata-service'));
    assert.ok(sourcesAt > ciAt && genAt > sourcesAt, 'generate after COPY . .');
    const meta = JSON.parse(read('metadata-service/package.json'));
    assert.match(meta.scripts.generate, /prisma generate/);
    // The generated client lands inside metadata-service/src, so the bundle built after it includes it.
    for (const schema of ['prisma/sqlite/schema.prisma', 'prisma/sqlserver/schema.prisma']) {
      const out = /output\s*=\s*"([^"]+)"/.exec(read(schema))?.[1];
      assert.ok(out && join('prisma/x', out).startsWith('metadata-service/src/generated'), `${schema} output ${out}`);
    }
    const bundleAt = build.findIndex((i) => i.op === 'RUN' && i.args.includes('node scripts/build.mjs'));
    assert.ok(bundleAt >= genAt, 'bundles built after generate');
  });

  it('ships only what the service runs: its bundle and npm packages, no tsx, no TypeScript sources', () => {
    assert.ok(build.some((i) => i.op === 'RUN' && /node ops\/images\/runtime-deps\.mjs "\$dir" \/runtime/.test(i.args)), 'per-service packages');
    assert.ok(dockerignore.includes('!ops/images/runtime-deps.mjs'), 'the script is in the build context');
    const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
    assert.deepEqual(copies, ['--from=build /runtime ./'], 'the runtime stage copies /runtime alone');
    assert.doesNotMatch(read('Dockerfile'), /--import tsx|\/opt\/tsx/);
  });

  it('runs as a non-root user with NODE_ENV=production, the web app in the gateway, the migrations in the metadata-service', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    assert.ok(user && !['root', '0'].includes(user), `USER ${user}`);
    assert.ok(runtime.some((i) => i.op === 'ENV' && /NODE_ENV=production/.test(i.args)));
    const assemble = build.find((i) => i.op === 'RUN' && i.args.startsWith('case "$SERVICE"'))!.args;
    assert.match(assemble, /gateway\) mkdir -p \/runtime\/frontend && cp -a frontend\/dist \/runtime\/frontend\//);
    assert.match(assemble, /metadata-service\) for p in sqlite sqlserver; .*cp -a "prisma\/\$p\/migrations"/);
  });

  it('ignores local state, secrets and host builds, but not what the image needs', () => {
    for (const p of ['**/node_modules', '.git', '.data', '.env', 'metadata-service/src/generated']) assert.ok(dockerignore.includes(p), `.dockerignore ${p}`);
    for (const keep of ['frontend', 'prisma', 'packages', 'package.json', 'package-lock.json', ...SERVICES]) {
      assert.ok(!dockerignore.includes(keep), `.dockerignore must not exclude ${keep}`);
    }
  });

  it('ships the shared packages the services run on, and neither test support nor test files', () => {
    const needed = [...runtimeWorkspaces()].filter((w) => w.startsWith('packages/')).sort();
    assert.ok(!needed.includes('packages/testing'), `a service depends on packages/testing in production (${needed.join(', ')})`);
    // The workspaces are bundled into each service, not copied; their npm dependencies are followed by
    // runtime-deps.mjs through production `dependencies` only: test support may have no others.
    assert.deepEqual(manifest('packages/testing').dependencies ?? {}, {}, 'packages/testing has production dependencies');
    // Test files never reach the build context, so no COPY can put one in the image.
    for (const p of ['**/test', '**/*.test.ts']) assert.ok(dockerignore.includes(p), `.dockerignore ${p}`);
    // And nothing shipped imports test support (or the `npm start` stack, which is not copied).
    for (const dir of [...runtimeWorkspaces(), 'tools/drive-emulator']) {
      for (const file of tsFiles(join(ROOT, dir, 'src'))) {
        assert.doesNotMatch(readFileSync(file, 'utf8'), /from '@drive-import\/(testing|local-stack)'/, file.slice(ROOT.length));
      }
    }
  });

  // The script that picks an image's npm packages, run for real on this checkout's install.
  describe('runtime-deps.mjs', () => {
    let out = '';
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    before(() => {
      // The bundles it reads: esbuild takes well under a second for all of them.
      const built = spawnSync(process.execPath, ['scripts/build.mjs', '--services-only'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
      out = mkdtempSync(join(tmpdir(), 'runtime-deps-'));
    });
    after(() => rmSync(out, { recursive: true, force: true }));
    const run = (dir: string) => {
      const to = join(out, dir.replace(/\//g, '_'));
      const r = spawnSync(process.execPath, ['ops/images/runtime-deps.mjs', dir, to], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return (name: string) => existsSync(join(to, 'node_modules', name, 'package.json'));
    };

    it("takes the worker's packages and theirs, and leaves out dev tools, workspaces and other services' packages", () => {
      const has = run('worker');
      for (const name of ['sharp', 'bullmq', 'ioredis', '@googleapis/drive', '@aws-sdk/client-s3', '@azure/storage-blob', 'pino', 'exifr']) assert.ok(has(name), name);
      for (const name of ['tsx', 'typescript', 'esbuild', 'vite', 'prisma', '@prisma/client', 'better-sqlite3', '@bull-board/api', '@drive-import/common']) assert.ok(!has(name), name);
      const shipped = files(join(out, 'worker'));
      assert.ok(!shipped.some((f) => /\.d\.[cm]?ts$|\.map$/.test(f)), 'typings or source maps shipped');
    });

    it("keeps of better-sqlite3 and Prisma's query compilers only what the metadata-service loads", () => {
      const has = run('metadata-service');
      for (const name of ['@prisma/client', '@prisma/adapter-better-sqlite3', '@prisma/adapter-mssql', 'better-sqlite3', 'bullmq']) assert.ok(has(name), name);
      for (const name of ['sharp', '@aws-sdk/client-s3', 'prisma', 'typescript']) assert.ok(!has(name), name);
      const addon = join(out, 'metadata-service', 'node_modules', 'better-sqlite3', 'build');
      assert.deepEqual(files(addon).map((f) => f.slice(addon.length + 1)), ['Release/better_sqlite3.node']);
      const compilers = readdirSync(join(out, 'metadata-service', 'node_modules', '@prisma', 'client', 'runtime')).filter((f) => f.startsWith('query_compiler'));
      assert.ok(compilers.length > 0 && compilers.every((f) => /\.(sqlite|sqlserver)\./.test(f)), compilers.join(', '));
    });
  });

  describe('HEALTHCHECK', () => {
    let server: Server;
    let status = 200;
    let port = 0;
    before(async () => {
      server = createServer((req, res) => {
        res.writeHead(req.url === '/health' ? status : 404).end('{}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => server.close());

    // Asynchronous: the server answering the check runs in this process.
    const run = (script: string, env: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' }).on('exit', (code) => resolve(code));
      });

    it('is the same command in the image and in docker-compose', () => {
      const compose = parse(read('docker-compose.microservices.yml'), { merge: true });
      assert.equal(compose.services.worker.healthcheck.test[3], healthcheckScript());
      // podman's Docker API splits a CMD healthcheck's arguments at whitespace: the script has none.
      assert.doesNotMatch(healthcheckScript(), /\s/);
    });

    it("exits 0 on a 200 from /health on the service's port, 1 on a 503 or no answer", async () => {
      const script = healthcheckScript();
      for (const s of SERVICES) {
        status = 200;
        assert.equal(await run(script, { SERVICE: s, [`${envPrefix(s)}_PORT`]: String(port) }), 0, `${s} healthy`);
        status = 503;
        assert.equal(await run(script, { SERVICE: s, [`${envPrefix(s)}_PORT`]: String(port) }), 1, `${s} degraded`);
      }
      assert.equal(await run(script, { SERVICE: 'worker', WORKER_PORT: '1' }), 1, 'nothing listening');
    });

    it("defaults to each service's default port", () => {
      const script = healthcheckScript();
      for (const [s, p] of Object.entries(DEFAULT_PORTS)) {
        // Prove the default without a server: swap fetch for one that records the URL.
        const probe = `globalThis.fetch=async(u)=>{console.log(u);return{ok:true}};${script}`;
        const out = spawnSync(process.execPath, ['-e', probe], { env: { PATH: process.env.PATH, SERVICE: s }, encoding: 'utf8' }).stdout.trim();
        assert.equal(out, `http://127.0.0.1:${p}/health`, s);
      }
    });
  });
});

// Keep the file list honest: a new service needs a Dockerfile entry, compose service and manifests.
it('has one Dockerfile SERVICE per folder with a src/main.ts among the service folders', () => {
  const withMain = SERVICES.filter((s) => existsSync(join(ROOT, s, 'src/main.ts')));
  assert.deepEqual(withMain, [...SERVICES]);
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  for (const s of withMain) assert.match(text, new RegExp(`[ |]${s}[|)]`), `Dockerfile SERVICE ${s}`);
});
