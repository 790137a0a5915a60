/**
 * The storage-service's store probe runs on a timer: a /health call never writes an object, and
 * /health never shows a store secret (a SAS connection string against a real Azurite).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { createLogger } from '@drive-import/common';
import { createStorageDriver, type PutInput, secretsOf, type StorageDriver } from '@drive-import/storage';
import { AZURITE_KEY, type AzuriteHandle, azuriteAccountSas, freePort, startAzurite, TEST_INTERNAL_TOKEN, tempDir, uniqueName, waitFor } from '@drive-import/testing';
import { createStorageApp, createStoreHealth, loadStorageServiceConfig, type StorageAppDeps, type StoredObjectCatalog } from '../src/index.ts';
import { MAX_HUNG_PROBES } from '../src/store-health.ts';

const log = createLogger('storage-health-test', 'silent');
const noCatalog: StoredObjectCatalog = { find: async () => null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store whose check() is the write probe: put then delete, counted; `failing` makes it throw. */
function countingStore() {
  const counts = { writes: 0, deletes: 0 };
  const state = { failing: null as string | null, hang: false };
  const driver = {
    provider: 'local',
    async put() {
      counts.writes++;
      await sleep(5);
    },
    async delete() {
      counts.deletes++;
      return true;
    },
    async check() {
      if (state.hang) await new Promise(() => {});
      await this.put();
      await this.delete();
      if (state.failing) throw new Error(state.failing);
    },
  };
  return { counts, state, driver: driver as unknown as NonNullable<StorageAppDeps['drivers']['local']> };
}

test('N /health calls write nothing: the one probe at start is all, until the timer says so', async () => {
  const { counts, driver } = countingStore();
  const storeHealth = createStoreHealth(() => driver.check(), { intervalMs: 60_000 });
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: driver }, catalog: noCatalog, storeHealth });
    // The probe at start (before any request).
    await waitFor('the start-up probe', async () => counts.deletes === 1);
    const writesAtStart = counts.writes;
    assert.equal(writesAtStart, 1);
    const answers = await Promise.all(Array.from({ length: 200 }, () => app.request('/health')));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
    assert.deepEqual(((await answers[0]!.json()) as { checks: unknown }).checks, { store_local: 'ok' });
    for (let i = 0; i < 50; i++) assert.equal((await app.request('/health')).status, 200);
    assert.equal(counts.writes - writesAtStart, 0, '/health calls wrote probe objects');
  } finally {
    storeHealth.stop();
  }
});

test('with a real local store: 300 /health calls put no object', async () => {
  const dir = await tempDir('storage-health');
  const root = join(dir.path, 'objects');
  const local = createStorageDriver('local', loadStorageServiceConfig({ INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, LOCAL_STORAGE_DIR: root }));
  const puts: string[] = [];
  const realPut = local.put.bind(local);
  local.put = (input: PutInput) => {
    puts.push(input.key);
    return realPut(input);
  };
  const storeHealth = createStoreHealth(() => local.check(), { intervalMs: 60_000 });
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local }, catalog: noCatalog, storeHealth, internalToken: TEST_INTERNAL_TOKEN });
    assert.equal((await app.request('/health')).status, 200);
    assert.equal(puts.length, 1, 'the start-up probe');
    await Promise.all(Array.from({ length: 300 }, () => app.request('/health')));
    assert.equal(puts.length, 1);
    assert.deepEqual(await readdir(join(root, 'drive-import')), [], 'the probe object was removed, nothing else written');
  } finally {
    storeHealth.stop();
    await dir.cleanup();
  }
});

test('the timer probes again every interval, and /health reports the latest answer', async () => {
  const { counts, state, driver } = countingStore();
  const storeHealth = createStoreHealth(() => driver.check(), { intervalMs: 40 });
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: driver }, catalog: noCatalog, storeHealth });
    assert.equal((await app.request('/health')).status, 200);
    await waitFor('three more probes', async () => counts.writes >= 4);
    state.failing = 'disk full';
    const degraded = await waitFor('the failure to show', async () => {
      const res = await app.request('/health');
      return res.status === 503 ? ((await res.json()) as { checks: Record<string, string> }) : null;
    });
    assert.deepEqual(degraded.checks, { store_local: 'disk full' });
    state.failing = null;
    await waitFor('the recovery to show', async () => (await app.request('/health')).status === 200);
  } finally {
    storeHealth.stop();
  }
  const after = counts.writes;
  await sleep(120);
  assert.equal(counts.writes, after, 'stop() ends the probing');
});

test('a hung store: /health says so after the timeout, and probes never pile up', async () => {
  const { counts, state, driver } = countingStore();
  state.hang = true;
  const storeHealth = createStoreHealth(() => driver.check(), { intervalMs: 20, timeoutMs: 50 });
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: driver }, catalog: noCatalog, storeHealth });
    const res = await app.request('/health');
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { checks: Record<string, string> }).checks.store_local ?? '', /timed out after 50 ms/);
    await sleep(150);
    assert.equal(counts.writes, 0, 'the hung probe is still the only one');
  } finally {
    storeHealth.stop();
  }
});

/** A check() that fails (or hangs) its first `bad` calls, then answers ok; counts its calls. */
function flakyAtStart(bad: number, how: 'fail' | 'hang') {
  const calls = { n: 0 };
  const check = async () => {
    calls.n++;
    if (calls.n > bad) return;
    if (how === 'hang') await new Promise(() => {});
    throw new Error('bucket drive-import not ready');
  };
  return { calls, check };
}

const healthOf = async (app: ReturnType<typeof createStorageApp>) => {
  const res = await app.request('/health');
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
};

test('a store that fails its first checks, then is fine: /health is 200 within a second or two, not after the 30 s interval', async () => {
  const { calls, check } = flakyAtStart(2, 'fail');
  const started = Date.now();
  const storeHealth = createStoreHealth(check); // the default interval (30 s)
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: countingStore().driver }, catalog: noCatalog, storeHealth });
    const first = await healthOf(app);
    assert.equal(first.status, 503);
    assert.deepEqual(first.body.checks, { store_local: 'bucket drive-import not ready' });
    await waitFor('/health to turn 200', async () => (await healthOf(app)).status === 200, 3_000, 20);
    const took = Date.now() - started;
    assert.ok(took < 2_500, `200 after ${took} ms`);
    assert.equal(calls.n, 3, 'two failures, one success');
    // Healthy once: back to the interval, no more quick probes.
    await sleep(600);
    assert.equal(calls.n, 3);
  } finally {
    storeHealth.stop();
  }
});

test('a first probe that hangs: reported as timed out, and the next probe (not the interval) turns /health 200', async () => {
  const { calls, check } = flakyAtStart(1, 'hang');
  const started = Date.now();
  const storeHealth = createStoreHealth(check, { timeoutMs: 200 });
  try {
    const app = createStorageApp({ log, defaultProvider: 'local', drivers: { local: countingStore().driver }, catalog: noCatalog, storeHealth });
    const first = await healthOf(app);
    assert.equal(first.status, 503);
    assert.match(first.body.checks.store_local ?? '', /timed out after 200 ms/);
    await waitFor('/health to turn 200', async () => (await healthOf(app)).status === 200, 3_000, 20);
    const took = Date.now() - started;
    assert.ok(took < 2_000, `200 after ${took} ms`);
    assert.equal(calls.n, 2);
  } finally {
    storeHealth.stop();
  }
});

test('a store that always hangs: at most MAX_HUNG_PROBES checks wait on it at once', async () => {
  const { calls, check } = flakyAtStart(Number.POSITIVE_INFINITY, 'hang');
  const storeHealth = createStoreHealth(check, { timeoutMs: 20, intervalMs: 10, firstRetryMs: 5 });
  try {
    await sleep(400);
    assert.equal(calls.n, MAX_HUNG_PROBES);
    assert.match(await storeHealth.current(), /timed out after 20 ms/);
  } finally {
    storeHealth.stop();
  }
});

describe('no store secret in /health or an error answer (Azure SAS connection string, Azurite)', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite?.stop());

  const sas = azuriteAccountSas;

  async function answers(connectionString: string): Promise<{ status: number; text: string }[]> {
    const config = loadStorageServiceConfig({
      INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
      STORAGE_PROVIDER: 'azure',
      AZURE_STORAGE_CONNECTION_STRING: connectionString,
      AZURE_STORAGE_CONTAINER_NAME: uniqueName('health'),
    });
    const azure: StorageDriver = createStorageDriver('azure', config);
    const app = createStorageApp({ log, defaultProvider: 'azure', drivers: { azure }, catalog: noCatalog, healthOptions: { secrets: secretsOf(config), intervalMs: 60_000 }, internalToken: TEST_INTERNAL_TOKEN });
    const auth = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
    const out = [];
    for (const [path, init] of [
      ['/health', {}],
      ['/objects/drive-import/a.jpg', { headers: auth }],
      ['/objects-url/drive-import/a.jpg', { headers: auth }],
    ] as const) {
      const res = await app.request(path, init);
      out.push({ status: res.status, text: `${JSON.stringify([...res.headers])} ${await res.text()}` });
    }
    return out;
  }

  const assertClean = (text: string, secrets: string[]) => {
    for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 10)}...) in: ${text}`);
    assert.doesNotMatch(text, /\bsig=(?!\[redacted\])/);
    assert.doesNotMatch(text, /AccountKey=(?!\[redacted\])/);
  };

  it('an unreachable store behind a SAS: 503 naming the place, without the SAS', async () => {
    const token = sas('rwdlacup');
    const dead = azurite.blobEndpoint.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`);
    const cs = `BlobEndpoint=${dead};SharedAccessSignature=${token}`;
    const [healthAnswer, ...rest] = await answers(cs);
    assert.equal(healthAnswer!.status, 503);
    assert.match(healthAnswer!.text, /azure store not reachable \(container health-[0-9a-f]{8} at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\)/);
    const sig = new URLSearchParams(token).get('sig')!;
    for (const a of [healthAnswer!, ...rest]) assertClean(a.text, [cs, token, sig, encodeURIComponent(sig), decodeURIComponent(token)]);
  });

  it('a SAS that may not create the container: 503, without the SAS; a working one: 200', async () => {
    const readOnly = sas('rl');
    const [denied] = await answers(`BlobEndpoint=${azurite.blobEndpoint};SharedAccessSignature=${readOnly}`);
    assert.equal(denied!.status, 503);
    assertClean(denied!.text, [readOnly, new URLSearchParams(readOnly).get('sig')!]);
    const full = sas('rwdlacup');
    const [ok, , url] = await answers(`BlobEndpoint=${azurite.blobEndpoint};SharedAccessSignature=${full}`);
    assert.equal(ok!.status, 200, ok!.text);
    // No account key to sign read URLs with: refused, and the deployment's own SAS is not handed out.
    assert.equal(url!.status, 400);
    assertClean(url!.text, [full, new URLSearchParams(full).get('sig')!]);
  });

  it('an account-key connection string to a dead endpoint: no key in /health', async () => {
    const dead = azurite.connectionString.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`);
    const [healthAnswer] = await answers(dead);
    assert.equal(healthAnswer!.status, 503);
    assertClean(healthAnswer!.text, [AZURITE_KEY, dead, encodeURIComponent(AZURITE_KEY)]);
  });
});
