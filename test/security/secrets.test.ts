// A full import with every secret configured — a Google API key, S3 keys, an Azure connection string
// with its account key, INTERNAL_TOKEN, ADMIN_TOKEN and a stored API token — with Drive faults so
// errors get logged, every service at debug level. No log line and no response may carry a secret.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type FileListResponse, type JobStatusResponse, TERMINAL_JOB_STATUSES } from '@drive-import/common';
import { startDriveEmulator } from '@drive-import/drive-emulator';
import { createToken, openDb } from '@drive-import/metadata-service';
import { deletePrefix, findOrStartRedis, startAzurite, startS3Server, startStack, tempDir, uniqueName, waitFor } from '@drive-import/testing';

const GOOGLE_API_KEY = 'AIzaSyTEST-secret-api-key-9f8e7d6c5b4a3';
const INTERNAL_TOKEN = 'internal-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const ADMIN_TOKEN = 'admin-secret-a1b2c3d4e5f60718293a4b5c6d7e8f90';

test('no secret in any log line or any response of a full import', { timeout: 300_000 }, async (t) => {
  const redis = await findOrStartRedis();
  const dir = await tempDir('secrets');
  const prefix = uniqueName('secrets');
  const s3 = await startS3Server({ bucket: uniqueName('secrets') });
  const azurite = await startAzurite();
  const emulator = await startDriveEmulator({
    tree: { files: 300, depth: 1, foldersPerFolder: 3, seed: 77, imageBytes: 1500 },
    // Errors on every kind of call, so the error paths (and their logged errors) run.
    faults: { errorRate: 0.08, errorStatuses: [500, 503, 429], seed: 5, corruptRate: 0.02 },
  });
  const databaseUrl = `file:${join(dir.path, 'secrets.db')}`;
  const db = await openDb(databaseUrl);
  const { token: userToken } = await createToken(db, 'photographer', false);
  await db.close();
  const { accountKey } = azurite;
  const secrets: Record<string, string> = {
    GOOGLE_API_KEY,
    INTERNAL_TOKEN,
    ADMIN_TOKEN,
    'stored API token': userToken,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    'Azure account key': accountKey,
    'Azure connection string': azurite.connectionString,
  };

  const output: string[] = [];
  const responses: string[] = [];
  const stack = await startStack({
    freePorts: true,
    stdio: 'pipe',
    onOutput: (_name, chunk) => void output.push(chunk.toString()),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      LOG_PRETTY: 'false',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      INTERNAL_TOKEN,
      ADMIN_TOKEN,
      GOOGLE_API_KEY,
      DRIVE_API_ROOT_URL: emulator.url,
      DRIVE_MAX_REQUESTS_PER_SECOND: '100000',
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: s3.bucket!,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AZURE_STORAGE_CONTAINER_NAME: uniqueName('secrets').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 30),
      LOCAL_STORAGE_DIR: join(dir.path, 'objects'),
      FILE_MAX_ATTEMPTS: '2',
    },
  });
  try {
    const gateway = stack.gatewayUrl;
    const call = async (path: string, init: RequestInit = {}, token = userToken) => {
      const res = await fetch(`${gateway}${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
      const text = await res.text();
      responses.push(`${path} ${res.status} ${JSON.stringify([...res.headers])} ${text}`);
      return { status: res.status, text };
    };
    const accepted = JSON.parse((await call('/api/import/google-drive', { method: 'POST', body: JSON.stringify({ folder_url: emulator.folderUrl }) })).text) as { job_id: string; status_url: string };
    assert.ok(accepted.job_id, 'import accepted');
    const final = await waitFor(
      'the import to finish',
      async () => {
        const status = JSON.parse((await call(accepted.status_url)).text) as JobStatusResponse;
        return TERMINAL_JOB_STATUSES.includes(status.status) ? status : null;
      },
      240_000,
      250,
    );
    t.diagnostic(`job ${final.status}: ${final.processed} stored, ${final.failed} failed`);
    assert.ok(final.processed > 0);
    const files = JSON.parse((await call(`/api/import/jobs/${accepted.job_id}/files?status=failed&per_page=100`)).text) as FileListResponse;
    assert.ok(files.files.every((f) => typeof f.error === 'string'));
    // Everything else a person or a monitor reads: lists, health with details, metrics, errors.
    await call('/api/import/jobs', {}, ADMIN_TOKEN);
    await call('/health', {}, ADMIN_TOKEN);
    await call('/metrics', {}, ADMIN_TOKEN);
    await call('/admin/queues/api/queues', {}, ADMIN_TOKEN);
    await call('/api/import/google-drive', { method: 'POST', body: JSON.stringify({ folder_url: `https://drive.google.com/drive/folders/missingFolder0123?key=${GOOGLE_API_KEY}` }) });
    await call('/api/import/jobs', {}, `${userToken}x`);
    await call('/api/import/status/not-a-job');
    for (const p of stack.processes) {
      const res = await fetch(`${p.url}/health`);
      responses.push(`${p.name} /health ${await res.text()}`);
    }
  } finally {
    await stack.stop();
    await emulator.close();
    await azurite.stop();
    await s3.stop();
    await deletePrefix(redis.url, prefix);
    await redis.stop();
    await dir.cleanup();
  }

  const logs = output.join('');
  assert.ok(logs.split('\n').length > 100, `the services logged (${logs.length} bytes)`);
  assert.match(logs, /"level":(40|50)/, 'warnings or errors were logged (the fault paths ran)');
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(!logs.includes(value), `${what} appears in the logs: ${logs.split('\n').find((l) => l.includes(value))?.slice(0, 600)}`);
    const leak = responses.find((r) => r.includes(value));
    assert.equal(leak, undefined, `${what} appears in a response: ${leak?.slice(0, 600)}`);
  }
});
