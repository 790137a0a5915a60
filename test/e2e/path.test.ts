// A checkout whose path holds a space and non-ASCII letters (characters a file: URL escapes): the
// test runner and `npm start` work from there. The copy is the working tree's files (tracked and
// untracked-but-not-ignored), the generated Prisma client, and a node_modules of links to this
// checkout's packages, except the workspace links (@drive-import/*), which point into the copy, so
// that every service and script really runs from the copy's path.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deletePrefix, findOrStartRedis, type RedisHandle, uniqueName } from '@drive-import/testing';
import { localObjects } from './support.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
let base: string;
let copy: string;
let redis: RedisHandle;

function copyCheckout(to: string) {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const files = listed.stdout.split('\0').filter((f) => f && existsSync(join(REPO, f)));
  assert.ok(files.length > 100, `${files.length} files`);
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(REPO, f), join(to, f), { verbatimSymlinks: true });
  }
  // Made by `npm run generate`, ignored by git.
  cpSync(join(REPO, 'metadata-service/src/generated'), join(to, 'metadata-service/src/generated'), { recursive: true });
  const modules = join(to, 'node_modules');
  mkdirSync(join(modules, '@drive-import'), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry !== '@drive-import') symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
  }
  // The workspace links are relative (../../packages/common): the same ones resolve inside the copy.
  for (const entry of readdirSync(join(REPO, 'node_modules/@drive-import'))) {
    symlinkSync(readlinkSync(join(REPO, 'node_modules/@drive-import', entry)), join(modules, '@drive-import', entry));
  }
}

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'drive-import-path-'));
  copy = join(base, 'new comer ü');
  copyCheckout(copy);
  redis = await findOrStartRedis();
});
after(async () => {
  await redis?.stop();
  if (base) rmSync(base, { recursive: true, force: true }); // the links go, not what they point to
});

/** Runs `args` with node in the copy; resolves with the exit code and everything printed. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, { cwd: copy, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

test('the test runner runs from a folder named "new comer ü"', async () => {
  assert.ok(copy.includes(' ') && /[^\x00-\x7f]/.test(copy));
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // set for a test's children: a nested `node --test` would skip its files
  const { code, output } = await run(['scripts/run-tests.mjs', 'packages/common/test/config'], env);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /^# pass [1-9]\d*$/m);
  assert.match(output, /^# fail 0$/m);
});

test('npm start (--once) brings the system up from there and completes the demo import', async () => {
  const prefix = uniqueName('path');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_PRETTY: 'false',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: `file:${join(copy, '.data', 'demo.db')}`,
    LOCAL_STORAGE_DIR: join(copy, '.data', 'objects'),
  };
  for (const k of ['GOOGLE_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS', 'DRIVE_API_ROOT_URL', 'STORAGE_PROVIDER', 'ADMIN_TOKEN', 'INTERNAL_TOKEN']) delete env[k];
  try {
    const { code, output } = await run(['--import', 'tsx', 'scripts/start.ts', '--once', '--free-ports'], env);
    assert.equal(code, 0, output.slice(-3000));
    const finished = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; total?: number; processed?: number })
      .find((l) => l.msg === 'demo import completed');
    assert.ok(finished, `no completion line in:\n${output.slice(-3000)}`);
    assert.ok((finished.total ?? 0) >= 200, 'the demo folder has a few hundred images');
    assert.equal(finished.processed, finished.total);
    const objects = await localObjects(join(copy, '.data', 'objects'));
    assert.equal(objects.size, finished.total);
    assert.ok(existsSync(join(copy, '.data', 'admin-token')), 'its .data is in the copy');
  } finally {
    await deletePrefix(redis.url, prefix);
  }
});
