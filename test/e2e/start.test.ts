// `npm start` on embedded defaults: brings the system up, imports the demo folder to the end, and
// (with --once) stops everything cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir, uniqueName } from '@drive-import/testing';
import { localObjects } from './support.ts';

test('npm start imports the demo folder and exits cleanly with --once', async () => {
  const dir = await tempDir('start');
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_PRETTY: 'false',
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: uniqueName('start'),
      DATABASE_URL: `file:${join(dir.path, 'demo.db')}`,
      LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
    };
    for (const k of ['GOOGLE_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS', 'DRIVE_API_ROOT_URL', 'STORAGE_PROVIDER']) delete env[k];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--once', '--free-ports'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, output.slice(-3000));
    const finished = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; total?: number; processed?: number; status?: string })
      .find((l) => l.msg === 'demo import completed');
    assert.ok(finished, `no completion line in:\n${output.slice(-3000)}`);
    assert.ok((finished.total ?? 0) >= 200, 'the demo folder has a few hundred images');
    assert.equal(finished.processed, finished.total);
    // It printed a link that signs the local admin in (the token kept in .data/admin-token) for the person, in no log line.
    const adminToken = readFileSync(new URL('../../.data/admin-token', import.meta.url), 'utf8').trim();
    assert.match(output, new RegExp(`sign the local admin in[^\\n]*\\n\\n  http://127\\.0\\.0\\.1:\\d+/#signin=${encodeURIComponent(adminToken)}\\n`));
    assert.ok(output.split('\n').filter((l) => l.startsWith('{')).every((l) => !l.includes(adminToken)), 'the token is in no JSON log line');
    const objects = await localObjects(join(dir.path, 'objects'));
    assert.equal(objects.size, finished.total);
  } finally {
    await dir.cleanup();
  }
});
