/**
 * The lean S3 PUT (s3-put.ts): its SigV4 signature checked by an independent implementation
 * (aws4), the same checker first proven on the SDK's own PutObject; S3 error answers surfacing
 * like the SDK's (name, status, retryable or not); and the fallback to the SDK for auth schemes
 * other than plain SigV4.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import { startFaultProxy, startS3Server, uniqueName, type FaultProxy, type S3ServerHandle } from '@drive-import/testing';
import { isRetryableStorageError } from '../src/errors.ts';
import { createStorageDriver } from '../src/index.ts';
import { createLeanPut, S3PutError } from '../src/s3-put.ts';
import { storageConfig } from './stores.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const region = 'eu-central-1';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  signatureOk: boolean;
}

/** Recomputes the request's SigV4 signature with aws4 over the headers it says it signed (its X-Amz-Date included: aws4 takes it from there). */
function signatureMatches(req: IncomingMessage): boolean {
  const auth = req.headers.authorization ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  const expected = aws4.sign({ service: 's3', region, method: req.method, host: req.headers.host, path: req.url, headers }, credentials);
  return (expected.headers as Record<string, string>).Authorization === auth;
}

/** An S3 front that checks signatures and answers 200 with the body's md5 as ETag (403 when the signature is wrong). */
async function signatureCheckingServer(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const signatureOk = signatureMatches(req);
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, signatureOk });
      if (!signatureOk) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>signature mismatch</Message></Error>');
        return;
      }
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const client = (endpoint: string) => new S3Client({ endpoint, region, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
const leanOptions = { connectTimeoutMs: 2000, requestTimeoutMs: 10_000, connections: 4 };

describe('lean S3 PUT: signatures', () => {
  let front: Awaited<ReturnType<typeof signatureCheckingServer>>;
  before(async () => {
    front = await signatureCheckingServer();
  });
  after(() => front.close());

  it('the checker accepts the SDK\'s own PutObject and refuses a tampered signature', async () => {
    const sdk = client(front.url);
    try {
      await sdk.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b.jpg', Body: Buffer.from('hello'), ContentType: 'image/jpeg' }));
      assert.equal(front.received.at(-1)?.signatureOk, true);
      sdk.middlewareStack.add((next) => (args) => {
        const request = args.request as { headers: Record<string, string> };
        // One hex digit of the signature changed (to another digit: a signature may start with 0).
        request.headers.authorization = request.headers.authorization!.replace(/Signature=(\w)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
        return next(args);
      }, { step: 'finalizeRequest', priority: 'low' });
      await assert.rejects(sdk.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b.jpg', Body: Buffer.from('hello') })), { name: 'SignatureDoesNotMatch' });
    } finally {
      sdk.destroy();
    }
  });

  for (const [label, key] of [
    ['a plain key', 'drive-import/job/photo.jpg'],
    ["spaces, non-ASCII and !'()* in the key", "drive-import/Fotos 2024/Ünïcode (copy)!'*.JPG"],
  ] as const) {
    it(`signs a streamed PUT the way S3 checks it: ${label}`, async () => {
      const sdk = client(front.url);
      const lean = await createLeanPut(sdk, 'photos', leanOptions);
      assert.ok(lean, 'plain SigV4 buckets get the lean PUT');
      try {
        const bytes = Buffer.from('x'.repeat(5000));
        const md5 = createHash('md5').update(bytes).digest();
        const etag = await lean.put({
          key,
          body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
          size: bytes.length,
          contentMd5: md5.toString('base64'),
          contentType: 'image/jpeg',
          metadata: { md5: md5.toString('hex') },
          signal: new AbortController().signal,
        });
        const got = front.received.at(-1)!;
        assert.equal(got.signatureOk, true, 'aws4 computes the same signature');
        assert.equal(got.method, 'PUT');
        assert.equal(decodeURIComponent(got.path), `/photos/${key}`);
        assert.deepEqual(got.body, bytes);
        assert.equal(got.headers['content-md5'], md5.toString('base64'));
        assert.equal(got.headers['x-amz-meta-md5'], md5.toString('hex'));
        assert.equal(got.headers['content-type'], 'image/jpeg');
        assert.equal(etag, `"${md5.toString('hex')}"`);
      } finally {
        await lean.close();
        sdk.destroy();
      }
    });
  }

  it('keeps the SDK for a bucket whose auth scheme is not plain SigV4 (S3 Express)', async () => {
    const sdk = new S3Client({ region: 'us-east-1', credentials });
    try {
      assert.equal(await createLeanPut(sdk, 'photos--use1-az4--x-s3', leanOptions), null);
      assert.ok(await createLeanPut(sdk, 'photos', leanOptions));
    } finally {
      sdk.destroy();
    }
  });
});

describe('lean S3 PUT: S3 answers and faults, through the driver (s3rver)', () => {
  let s3: S3ServerHandle;
  let proxy: FaultProxy;
  before(async () => {
    s3 = await startS3Server();
    proxy = await startFaultProxy(s3.endpoint);
  });
  after(async () => {
    await proxy.close();
    await s3.stop();
  });

  const driverFor = (endpoint: string, bucket: string) =>
    createStorageDriver(
      's3',
      storageConfig({ STORAGE_PROVIDER: 's3', S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', S3_REGION: s3.region, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
    );
  const bytes = Buffer.from('y'.repeat(3000));
  const md5 = createHash('md5').update(bytes).digest('hex');

  it('a missing bucket: S3\'s own code and status, not retried', async () => {
    const driver = driverFor(s3.endpoint, uniqueName('missing'));
    try {
      const err: unknown = await driver.put({ key: 'drive-import/a.jpg', body: Readable.from([bytes]), size: bytes.length, md5, contentType: 'image/jpeg' }).then(
        () => assert.fail('stored into a missing bucket'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof S3PutError, String(err));
      assert.equal(err.name, 'NoSuchBucket');
      assert.equal(err.$metadata.httpStatusCode, 404);
      assert.equal(isRetryableStorageError(err), false);
    } finally {
      await driver.close();
    }
  });

  it('503 from the store: retryable, nothing stored; once it is back the same put lands', async () => {
    const bucket = uniqueName('lean');
    await s3.createBucket(bucket);
    const driver = driverFor(proxy.url, bucket);
    const put = () => driver.put({ key: 'drive-import/b.jpg', body: Readable.from([bytes]), size: bytes.length, md5, contentType: 'image/jpeg' });
    try {
      proxy.refuse({ status: 503 });
      const err: unknown = await put().then(() => assert.fail('stored through a 503'), (e: unknown) => e);
      assert.equal((err as S3PutError).$metadata?.httpStatusCode, 503);
      assert.equal(isRetryableStorageError(err), true);
      proxy.clear();
      assert.equal(await driver.head('drive-import/b.jpg'), null);
      const stored = await put();
      assert.equal(stored.md5, md5);
      assert.equal((await driver.head('drive-import/b.jpg'))?.md5, md5);
    } finally {
      await driver.close();
    }
  });
});
