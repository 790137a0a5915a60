// `npm run token` as a person uses it: create (shown once, stored hashed), list, quota, revoke, and
// the usage errors; against a SQLite file of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { hashToken, openDb } from '@drive-import/metadata-service';
import { tempDir } from '@drive-import/testing';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('npm run token: create, list, quota, revoke; the token is shown once and only its hash is kept', async () => {
  const dir = await tempDir('token-cli');
  const databaseUrl = `file:${join(dir.path, 'tokens.db')}`;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  try {
    const created = run('create', 'gina', '--max-files', '100');
    assert.equal(created.code, 0, created.out);
    const token = /\n {2}(dit_[A-Za-z0-9_-]{43})\n/.exec(created.out)?.[1];
    assert.ok(token, created.out);
    const db = await openDb(databaseUrl);
    try {
      const row = await db.read.apiToken.findUnique({ where: { name: 'gina' } });
      assert.equal(row?.hash, hashToken(token));
      assert.equal(row?.maxFiles, 100);
      const raw = JSON.stringify(await db.read.apiToken.findMany());
      assert.ok(!raw.includes(token), 'the token itself is stored nowhere');
    } finally {
      await db.close();
    }
    assert.match(run('create', 'ops', '--admin').out, /Created admin token "ops"/);
    assert.equal(run('create', 'gina').code, 1, 'a name is taken once');
    assert.match(run('quota', 'gina', '--max-bytes', '5000', '--max-files', 'none').out, /quota none files, 5000 bytes/);
    const list = run('list').out;
    assert.match(list, /gina\tuser\tquota - files, 5000 bytes\tcreated \S+\tactive/);
    assert.match(list, /ops\tadmin\tno quota/);
    assert.match(run('revoke', 'gina').out, /Revoked token "gina"/);
    assert.match(run('list').out, /gina\tuser.*revoked /);
    for (const bad of [['bogus'], ['create'], ['revoke', 'ops', '--admin'], ['quota', 'ops', '--max-files', 'lots'], ['create', 'bad name'], ['list', '--nope']]) {
      assert.equal(run(...bad).code, 2, bad.join(' '));
    }
  } finally {
    await dir.cleanup();
  }
});
