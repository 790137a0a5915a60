/**
 * Dockerfile and .dockerignore, checked without a Docker engine: the stages and their order, the
 * SERVICE argument, every workspace manifest copied before `npm ci`, the Prisma generate step, a
 * non-root runtime, and a HEALTHCHECK command that is run here against a real HTTP server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  it('builds in a toolchain stage and runs from a slim Node 20 stage without it', () => {
    assert.deepEqual(stages.map((s) => s.name), ['build', 'runtime']);
    const nodeImage = /ARG NODE_IMAGE=(\S+)/.exec(read('Dockerfile'))?.[1];
    assert.match(nodeImage ?? '', /^node:20-(bookworm-)?slim$/);
    assert.ok(build.some((i) => i.op === 'RUN' && /python3/.test(i.args) && /g\+\+/.test(i.args)), 'compilers for better-sqlite3');
    assert.ok(!runtime.some((i) => i.op === 'RUN' && /apt-get/.test(i.args)), 'no toolchain in the runtime stage');
  });

  it('takes SERVICE as a build argument, accepts exactly the five services and runs that one with tsx', () => {
    const check = build.find((i) => i.op === 'RUN' && i.args.startsWith('case "$SERVICE"'))!;
    const accepted = /in (\S+)\)/.exec(check.args)![1]!.split('|');
    assert.deepEqual(accepted.sort(), [...SERVICES].sort());
    for (const s of SERVICES) assert.ok(existsSync(join(ROOT, s, 'src', 'main.ts')), `${s}/src/main.ts`);
    assert.ok(runtime.some((i) => i.op === 'ARG' && i.args === 'SERVICE'));
    const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];
    assert.deepEqual(cmd, ['sh', '-c', 'exec node --import tsx "$SERVICE/src/main.ts"']);
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
    // The generated client lands inside metadata-service/, which the runtime stage copies.
    for (const schema of ['prisma/sqlite/schema.prisma', 'prisma/sqlserver/schema.prisma']) {
      const out = /output\s*=\s*"([^"]+)"/.exec(read(schema))?.[1];
      assert.ok(out && join('prisma/x', out).startsWith('metadata-service/src/generated'), `${schema} output ${out}`);
    }
    assert.ok(runtime.some((i) => i.op === 'COPY' && i.args === '--from=build /app/metadata-service ./metadata-service'));
  });

  it('keeps tsx at runtime without the other dev dependencies', () => {
    assert.ok(build.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)), 'production-only install');
    assert.ok(build.some((i) => i.op === 'RUN' && /npm install --prefix \/opt\/tsx/.test(i.args) && /ln -s \/opt\/tsx\/node_modules\/tsx/.test(i.args)));
    assert.ok(runtime.some((i) => i.op === 'COPY' && i.args.startsWith('--from=build /opt/tsx')));
    assert.ok(JSON.parse(read('package.json')).devDependencies.tsx, 'tsx version comes from the lock');
  });

  it('runs as a non-root user with NODE_ENV=production and the frontend the gateway serves', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    assert.ok(user && !['root', '0'].includes(user), `USER ${user}`);
    assert.ok(runtime.some((i) => i.op === 'ENV' && /NODE_ENV=production/.test(i.args)));
    for (const dir of ['frontend', 'prisma', ...SERVICES]) {
      assert.ok(runtime.some((i) => i.op === 'COPY' && i.args.endsWith(` ./${dir}`)), `runtime copies ${dir}`);
    }
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
    // Copied one by one: a COPY of the whole packages/ folder would bring packages/testing along.
    const copied = runtime.filter((i) => i.op === 'COPY').map((i) => i.args.split(' ').at(-1)!).filter((to) => to.startsWith('./packages'));
    assert.deepEqual(copied.sort(), needed.map((w) => `./${w}`));
    // The --omit=dev install in /prod leaves out dev dependencies only: test support may have no others.
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
  assert.ok(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').includes('--workspace "$SERVICE"'));
});
