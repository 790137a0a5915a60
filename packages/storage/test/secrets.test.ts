/**
 * Store secrets never reach a message: an Azure SAS connection string (against a real Azurite), an
 * account key, and the redaction helpers the storage-service uses for /health.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AZURITE_KEY, type AzuriteHandle, azuriteAccountSas, freePort, startAzurite, uniqueName } from '@drive-import/testing';
import { createStorageDriver, redactSecrets, secretsOf, StorageUsageError } from '../src/index.ts';
import { storageConfig } from './stores.ts';

const accountSas = azuriteAccountSas;

/** Every secret-looking part of a SAS: the whole token and its signature, raw and percent-decoded. */
function sasParts(sas: string): string[] {
  const sig = new URLSearchParams(sas).get('sig')!;
  return [sas, sig, encodeURIComponent(sig), decodeURIComponent(sas)];
}

function assertClean(text: string, secrets: string[], what: string) {
  for (const s of secrets) assert.ok(!text.includes(s), `${what} carries a secret (${s.slice(0, 12)}...): ${text}`);
  assert.doesNotMatch(text, /\bsig=(?!\[redacted\])/, what);
  assert.doesNotMatch(text, /AccountKey=(?!\[redacted\])/, what);
}

describe('Azure with a SAS connection string: no SAS in any message', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite?.stop());

  const sasConfig = (blobEndpoint: string, sas: string) =>
    storageConfig({ STORAGE_PROVIDER: 'azure', AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint};SharedAccessSignature=${sas}`, AZURE_STORAGE_CONTAINER_NAME: uniqueName('sas') });

  it('a working SAS passes check(); its read URLs are refused rather than handing out the SAS', async () => {
    const sas = accountSas('rwdlacup');
    const driver = createStorageDriver('azure', sasConfig(azurite.blobEndpoint, sas));
    await driver.check();
    await assert.rejects(driver.readUrl('drive-import/a.jpg'), (err: Error) => err instanceof StorageUsageError && !err.message.includes(sas));
  });

  it('check() failures name the container and endpoint, never the SAS (unreachable, and not allowed to create)', async () => {
    const sas = accountSas('rwdlacup');
    const dead = azurite.blobEndpoint.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`);
    const readOnly = accountSas('rl');
    for (const [label, config, secrets] of [
      ['unreachable', sasConfig(dead, sas), sasParts(sas)],
      ['read-only SAS', sasConfig(azurite.blobEndpoint, readOnly), sasParts(readOnly)],
    ] as const) {
      const driver = createStorageDriver('azure', config);
      await assert.rejects(driver.check(), (err: Error) => {
        assert.match(err.message, /^azure store/, label);
        assert.match(err.message, /container sas-[0-9a-f]{8} at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/, label);
        assertClean(err.message, [...secrets, config.AZURE_STORAGE_CONNECTION_STRING!], `${label}: ${err.message}`);
        return true;
      });
    }
  });

  it('an account-key connection string that fails: no key in the message', async () => {
    const dead = azurite.connectionString.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`);
    const driver = createStorageDriver('azure', storageConfig({ STORAGE_PROVIDER: 'azure', AZURE_STORAGE_CONNECTION_STRING: dead }));
    await assert.rejects(driver.check(), (err: Error) => {
      assertClean(err.message, [AZURITE_KEY, dead], err.message);
      return true;
    });
  });
});

describe('redactSecrets', () => {
  it('removes known secrets (raw and percent-encoded) and anything shaped like one', () => {
    const sas = 'sv=2024-08-04&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=AbCdEf%2BgHiJkLmNoPqRsTuVwXyZ0123456789%3D';
    const cs = `BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=${sas}`;
    const secrets = secretsOf({ AZURE_STORAGE_CONNECTION_STRING: cs, AWS_SECRET_ACCESS_KEY: 'aws/secret+KEY0123456789' });
    const text = [
      `connection ${cs}`,
      `url https://acct.blob.core.windows.net/c/b.jpg?${sas}`,
      'decoded sig AbCdEf+gHiJkLmNoPqRsTuVwXyZ0123456789=',
      'aws aws/secret+KEY0123456789 and aws%2Fsecret%2BKEY0123456789',
      'other DefaultEndpointsProtocol=https;AccountName=x;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5==;EndpointSuffix=core.windows.net',
      'presigned https://s3.test/b/k?X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeef',
      'userinfo https://user:pa55word@example.test/path',
    ].join('\n');
    const out = redactSecrets(text, secrets);
    for (const s of ['AbCdEf', 'aws/secret', 'aws%2Fsecret', 'c2VjcmV0a2V5', 'deadbeef', 'AKIA', 'pa55word']) assert.ok(!out.includes(s), `${s} left in:\n${out}`);
    assert.match(out, /container|acct\.blob\.core\.windows\.net/, 'the place names stay');
    assert.match(out, /AccountName=x/);
  });
});
