import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@drive-import/common';
import { TEST_INTERNAL_TOKEN } from '@drive-import/testing';
import { loadImportConfig } from '../src/config.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NO_CREDENTIALS = { GOOGLE_API_KEY: '', GOOGLE_APPLICATION_CREDENTIALS: '', DRIVE_API_ROOT_URL: '', INTERNAL_TOKEN: TEST_INTERNAL_TOKEN };
const token = { INTERNAL_TOKEN: TEST_INTERNAL_TOKEN };

describe('import-service config', () => {
  it('refuses Google Drive without credentials, naming what to set', () => {
    assert.throws(
      () => loadImportConfig(NO_CREDENTIALS),
      (err: unknown) => err instanceof ConfigError && /GOOGLE_API_KEY/.test(err.message) && /GOOGLE_APPLICATION_CREDENTIALS/.test(err.message) && /emulator/.test(err.message),
    );
  });

  it('accepts an API key, a credentials file, or the emulator without a key', () => {
    assert.equal(loadImportConfig({ ...token, GOOGLE_API_KEY: 'k' }).GOOGLE_API_KEY, 'k');
    assert.equal(loadImportConfig({ ...token, GOOGLE_APPLICATION_CREDENTIALS: '/etc/sa.json' }).GOOGLE_APPLICATION_CREDENTIALS, '/etc/sa.json');
    const c = loadImportConfig({ ...token, DRIVE_API_ROOT_URL: 'http://127.0.0.1:4000/' });
    assert.equal(c.LISTING_CONCURRENCY, 8);
    assert.equal(c.IMPORT_SERVICE_PORT, 5001);
    assert.equal(c.BATCH_SIZE, 100);
  });

  it('names every bad variable', () => {
    assert.throws(() => loadImportConfig({ GOOGLE_API_KEY: 'k', LISTING_CONCURRENCY: '0', REDIS_URL: 'http://x' }), /LISTING_CONCURRENCY.*REDIS_URL|REDIS_URL.*LISTING_CONCURRENCY/);
  });

  it('main.ts exits 1 with the message when started without credentials', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'import-service/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...NO_CREDENTIALS, LOG_PRETTY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(output, /needs credentials: set GOOGLE_API_KEY/);
  });
});
