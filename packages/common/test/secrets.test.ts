import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, scrubSecrets } from '../src/index.ts';

const KEY = 'AIzaSyD-not-a-real-key-0123456789abcdef';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

test('scrubSecrets: keys in URLs, SAS signatures, connection strings and bearer tokens lose their values', () => {
  const text = [
    `GET https://www.googleapis.com/drive/v3/files?q=x&key=${KEY}&pageSize=1000 failed`,
    `https://acct.blob.core.windows.net/c/b?sv=2024-01-01&sig=abc%2Fdef%3D&se=2026`,
    `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`,
    'authorization: Bearer dit_abcdefghijklmnopqrstuvwxyz0123456789',
    'a token dit_0123456789abcdefghijklmnop in a message',
    'https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE%2F20261203&X-Amz-Signature=0123abcd',
  ].join('\n');
  const out = scrubSecrets(text);
  for (const secret of [KEY, ACCOUNT_KEY, 'abc%2Fdef%3D', 'dit_abcdefghijklmnopqrstuvwxyz0123456789', 'dit_0123456789abcdefghijklmnop', 'AKIAEXAMPLE', '0123abcd']) {
    assert.ok(!out.includes(secret), `${secret} left in: ${out}`);
  }
  assert.match(out, /pageSize=1000/, 'the rest of the text stays');
  assert.match(out, /AccountName=devstoreaccount1/);
  assert.equal(scrubSecrets('plain text, nothing here'), 'plain text, nothing here');
});

test('the logger: an HTTP client error with its request config, a message with a key: no secret in the line', () => {
  // A gaxios-like error: the URL with ?key= in config, headers with the token, the response.
  const err = Object.assign(new Error(`request to https://drive.test/files?key=${KEY} failed`), {
    config: { url: `https://drive.test/files?key=${KEY}`, headers: { authorization: 'Bearer dit_secret-token-0123456789abcdef' } },
    response: { status: 500, config: { url: `https://drive.test/files?key=${KEY}` } },
    code: 'ERR_BAD',
  });
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const captured = createLogger('secrets-test', 'info', sink);
  captured.error({ err, url: `https://drive.test/files?key=${KEY}` }, `failed with key=${KEY}`);
  const text = lines.join('');
  assert.ok(text.length > 0);
  assert.ok(!text.includes(KEY), text);
  assert.ok(!text.includes('dit_secret-token'), text);
  assert.match(text, /"code":"ERR_BAD"/);
  assert.doesNotMatch(text, /"config"/);
});
