/** The verifying stream, driver selection and the retry rule, on real streams and real errors. */
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { ConfigError, configuredDestinations } from '@drive-import/common';
import { freePort } from '@drive-import/testing';
import { ChecksumMismatchError, createStorageDriver, isRetryableStorageError, StorageUsageError, VerifyingStream } from '../src/index.ts';
import { md5 } from './helpers.ts';
import { storageConfig } from './stores.ts';

/** Run chunks through a verifier; report what came out, and the error if any. */
async function run(chunks: Buffer[], expected: { md5: string | null; size: number | null }) {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  const v = new VerifyingStream(expected);
  let error: unknown = null;
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), v, sink);
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(out), error, v };
}

describe('VerifyingStream', () => {
  const chunks = [Buffer.from('abc'), Buffer.from('def'), Buffer.from('ghi')];
  const all = Buffer.concat(chunks);

  it('passes matching bytes through unchanged and reports md5 and size', async () => {
    const { out, error, v } = await run(chunks, { md5: md5(all).toUpperCase(), size: all.length });
    assert.equal(error, null);
    assert.deepEqual(out, all);
    assert.deepEqual(v.result, { md5: md5(all), size: all.length });
  });

  it('on an md5 mismatch errors and never releases the last chunk', async () => {
    const { out, error } = await run(chunks, { md5: md5('something else'), size: all.length });
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.kind, 'md5');
    assert.equal(error.expected, md5('something else'));
    assert.equal(error.actual, md5(all));
    assert.ok(out.length < all.length, `released ${out.length} of ${all.length} bytes`);
  });

  it('errors as soon as the body is longer than announced, before releasing the announced length', async () => {
    const { out, error } = await run([Buffer.from('abcdef'), Buffer.from('g')], { md5: null, size: 6 });
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.kind, 'size');
    assert.ok(out.length < 6);
  });

  it('errors when the body is shorter than announced', async () => {
    const { error } = await run(chunks, { md5: null, size: all.length + 1 });
    assert.ok(error instanceof ChecksumMismatchError && error.kind === 'size');
  });

  it('refuses a malformed expected md5 up front', () => {
    assert.throws(() => new VerifyingStream({ md5: 'not-hex', size: null }), StorageUsageError);
  });

  it('holds back only one chunk: the rest flows while the source is still open', async () => {
    const source = new PassThrough();
    const v = new VerifyingStream({ md5: null, size: null });
    source.pipe(v);
    const seen: Buffer[] = [];
    v.on('data', (c: Buffer) => seen.push(c));
    source.write(Buffer.from('one'));
    source.write(Buffer.from('two'));
    source.write(Buffer.from('three'));
    await new Promise((r) => setImmediate(r));
    assert.equal(Buffer.concat(seen).toString(), 'onetwo');
    source.end();
    await new Promise((r) => v.once('end', r));
    assert.equal(Buffer.concat(seen).toString(), 'onetwothree');
  });
});

describe('createStorageDriver and configuredDestinations', () => {
  it('name the missing settings', () => {
    const bare = storageConfig({});
    assert.deepEqual(configuredDestinations(bare), ['local']);
    assert.throws(() => createStorageDriver('s3', bare), (err: Error) => err instanceof ConfigError && /S3_BUCKET/.test(err.message));
    assert.throws(() => createStorageDriver('azure', bare), /AZURE_STORAGE_CONNECTION_STRING.*AZURE_STORAGE_ACCOUNT_NAME/);
    const both = storageConfig({ S3_BUCKET: 'b-1', AZURE_STORAGE_ACCOUNT_NAME: 'acct', AZURE_STORAGE_ACCOUNT_KEY: Buffer.from('k').toString('base64') });
    assert.deepEqual(configuredDestinations(both).sort(), ['azure', 'local', 's3']);
    assert.equal(createStorageDriver('azure', both).provider, 'azure');
  });
});

describe('isRetryableStorageError', () => {
  it('network failures from a real refused connection are retryable', async () => {
    const port = await freePort();
    const driver = createStorageDriver(
      's3',
      storageConfig({ S3_BUCKET: 'b-1', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }),
    );
    try {
      const err = await driver.head('drive-import/some/key').then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error);
      assert.equal(isRetryableStorageError(err), true, String(err));
    } finally {
      await driver.close();
    }
  });

  it('classifies status codes, throttling and our own errors', () => {
    const withStatus = (status: number, name = 'S3ServiceException') => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.equal(isRetryableStorageError(withStatus(500, 'InternalError')), true);
    assert.equal(isRetryableStorageError(withStatus(503, 'SlowDown')), true);
    assert.equal(isRetryableStorageError(Object.assign(new Error('busy'), { statusCode: 429 })), true);
    assert.equal(isRetryableStorageError(withStatus(403, 'AccessDenied')), false);
    assert.equal(isRetryableStorageError(withStatus(404, 'NoSuchBucket')), false);
    assert.equal(isRetryableStorageError(new ChecksumMismatchError('md5', 'a', 'b')), false);
    assert.equal(isRetryableStorageError(Object.assign(new Error('cancelled'), { name: 'AbortError' })), false);
    assert.equal(isRetryableStorageError(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })), true);
    assert.equal(isRetryableStorageError('not an error'), false);
  });
});
