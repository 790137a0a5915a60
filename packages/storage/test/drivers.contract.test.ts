/**
 * ONE contract, three real stores: s3rver (child process), Azurite (child process) and a temp dir.
 * Every driver must store exactly the verified bytes, never let a wrong body replace an object, and
 * refuse unsafe keys before touching its store.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Destination, objectKey } from '@drive-import/common';
import {
  ChecksumMismatchError,
  parseRangeHeader,
  resolveRange,
  createStorageDriver,
  DEFAULT_URL_TTL_SECONDS,
  InvalidKeyError,
  isRetryableStorageError,
  KeyOutsidePrefixError,
  type PutInput,
  type StorageDriver,
} from '../src/index.ts';
import { body, bytesOf, digest, md5, md5Of, readAll, slowBody } from './helpers.ts';
import { startStore, storageConfig, type StoreHarness, URL_SIGNING_SECRET } from './stores.ts';

const MB = 1024 * 1024;

async function putBytes(driver: StorageDriver, key: string, data: Buffer, contentType = 'image/jpeg') {
  return driver.put({ key, body: bodyFrom(data), size: data.length, md5: md5(data), contentType });
}
const bodyFrom = (data: Buffer) => Readable.from([data], { objectMode: false });

async function contentOf(driver: StorageDriver, key: string): Promise<Buffer | null> {
  const got = await driver.get(key);
  return got ? readAll(got.body) : null;
}

async function rejectsMismatch(p: Promise<unknown>, kind: 'md5' | 'size') {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ChecksumMismatchError, `expected ChecksumMismatchError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.equal(isRetryableStorageError(err), false);
    return true;
  });
}

// Every destination a job can name, so a new one cannot ship without passing the contract.
for (const provider of Destination.options) {
  describe(`${provider} driver contract`, () => {
    let h: StoreHarness;
    let driver: StorageDriver;
    // Every key lies under STORAGE_KEY_PREFIX (drive-import in these stores).
    const key = (name: string) => `drive-import/t/${provider}/${name}`;

    before(async () => {
      h = await startStore(provider);
      driver = h.driver;
    });
    after(async () => {
      await h?.stop();
    });

    it('put, head, get and delete round-trip an object', async () => {
      const data = bytesOf(100 * 1024, 1);
      const k = key('round-trip.jpg');
      const put = await putBytes(driver, k, data);
      assert.equal(put.key, k);
      assert.equal(put.size, data.length);
      assert.equal(put.md5, md5(data));

      const info = await driver.head(k);
      assert.ok(info);
      assert.equal(info.size, data.length);
      assert.equal(info.contentType, 'image/jpeg');
      assert.equal(info.md5, md5(data));
      assert.ok(info.lastModified instanceof Date);

      const got = await driver.get(k);
      assert.ok(got);
      assert.equal(got.info.size, data.length);
      assert.equal(got.info.md5, md5(data));
      assert.deepEqual(await readAll(got.body), data);

      assert.equal(await driver.delete(k), true);
      assert.equal(await driver.head(k), null);
      assert.equal(await driver.get(k), null);
      assert.equal(await driver.delete(k), false);
    });

    it('get with a byte range reads only those bytes; info.size stays the whole object\'s', async () => {
      const data = bytesOf(64 * 1024, 7);
      const k = key('ranged.jpg');
      await putBytes(driver, k, data);
      // Not 0-0: s3rver (the test S3) reads an end of 0 as "to the end"; S3 itself answers one byte.
      for (const [start, end] of [[0, 1], [100, 1123], [data.length - 10, data.length - 1], [0, data.length - 1]] as const) {
        const got = await driver.get(k, { start, end });
        assert.ok(got);
        assert.equal(got.info.size, data.length, `size with range ${start}-${end}`);
        assert.deepEqual(await readAll(got.body), data.subarray(start, end + 1), `bytes ${start}-${end}`);
      }
      assert.equal(await driver.get(key('no-such-ranged.jpg'), { start: 0, end: 9 }), null);
      await driver.delete(k);
    });

    it('put with unknown size and md5 stores the bytes and reports their md5', async () => {
      const data = bytesOf(300 * 1024, 2);
      const k = key('unknown.png');
      const put = await driver.put({ key: k, body: bodyFrom(data), size: null, md5: null, contentType: 'image/png' });
      assert.equal(put.size, data.length);
      assert.equal(put.md5, md5(data));
      const info = await driver.head(k);
      assert.equal(info?.md5, md5(data));
      assert.equal(info?.contentType, 'image/png');
      assert.deepEqual(await contentOf(driver, k), data);
    });

    it('streams a 50 MB body without buffering it', async (t) => {
      const size = 50 * MB;
      const expected = md5Of(size, 3);
      const k = key('big.bin');
      const start = process.memoryUsage().rss;
      let peak = start;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      try {
        const put = await driver.put({ key: k, body: body(size, 3), size, md5: expected, contentType: 'application/octet-stream' });
        assert.equal(put.size, size);
        assert.equal(put.md5, expected);
      } finally {
        clearInterval(sampler);
      }
      const growth = (peak - start) / MB;
      t.diagnostic(`${provider}: RSS growth during a 50 MB put: ${growth.toFixed(1)} MB`);
      // The whole body would add 50 MB (plus copies); bounded parts/blocks stay well below.
      assert.ok(growth < 40, `RSS grew ${growth.toFixed(1)} MB during a 50 MB put`);
      const info = await driver.head(k);
      assert.equal(info?.size, size);
      const got = await driver.get(k);
      assert.ok(got);
      assert.deepEqual(await digest(got.body), { md5: expected, size });
      await driver.delete(k);
    });

    it('a body whose md5 differs never becomes the object, and an earlier good object survives', async () => {
      const good = bytesOf(64 * 1024 + 17, 4);
      const bad = bytesOf(good.length, 5);
      const k = key('md5-mismatch.jpg');
      await putBytes(driver, k, good);
      // Same size, wrong content, through the single-request path...
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(bad), size: bad.length, md5: md5(good), contentType: 'image/jpeg' }), 'md5');
      assert.deepEqual(await contentOf(driver, k), good);
      assert.equal((await driver.head(k))?.md5, md5(good));
      // ...and an unknown-size 12 MB body (multipart on S3).
      await rejectsMismatch(driver.put({ key: k, body: body(12 * MB, 6), size: null, md5: md5(good), contentType: 'image/jpeg' }), 'md5');
      assert.deepEqual(await contentOf(driver, k), good);
      // A key that had nothing stays empty.
      const fresh = key('md5-mismatch-fresh.jpg');
      await rejectsMismatch(driver.put({ key: fresh, body: bodyFrom(bad), size: bad.length, md5: md5(good), contentType: 'image/jpeg' }), 'md5');
      assert.equal(await driver.head(fresh), null);
    });

    it('a body shorter or longer than announced is refused, and the earlier object survives', async () => {
      const good = bytesOf(100 * 1024, 7);
      const k = key('size-mismatch.jpg');
      await putBytes(driver, k, good);
      const shorter = good.subarray(0, good.length - 1);
      const longer = Buffer.concat([good, Buffer.from('x')]);
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(shorter), size: good.length, md5: md5(good), contentType: 'image/jpeg' }), 'size');
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(longer), size: good.length, md5: md5(good), contentType: 'image/jpeg' }), 'size');
      // Right length claimed for the wrong bytes with no md5 to compare: the size alone still guards.
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(longer), size: good.length, md5: null, contentType: 'image/jpeg' }), 'size');
      assert.deepEqual(await contentOf(driver, k), good);
    });

    it('zero-byte objects: stored when right, refused when the md5 is wrong', async () => {
      const k = key('empty.txt');
      const put = await driver.put({ key: k, body: bodyFrom(Buffer.alloc(0)), size: 0, md5: md5(''), contentType: 'text/plain' });
      assert.equal(put.size, 0);
      assert.equal((await driver.head(k))?.size, 0);
      assert.deepEqual(await contentOf(driver, k), Buffer.alloc(0));
      const good = Buffer.from('keep me');
      await putBytes(driver, k, good);
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(Buffer.alloc(0)), size: 0, md5: md5(good), contentType: 'text/plain' }), 'md5');
      await rejectsMismatch(driver.put({ key: k, body: bodyFrom(good), size: 0, md5: md5(''), contentType: 'text/plain' }), 'size');
      assert.deepEqual(await contentOf(driver, k), good);
    });

    it('a cancelled put stores nothing and stops reading the source', async () => {
      const k = key('cancelled.jpg');
      const data = bytesOf(256 * 1024, 8);
      const controller = new AbortController();
      let release!: () => void;
      const source = slowBody(data.subarray(0, 64 * 1024), data.subarray(64 * 1024), new Promise<void>((r) => (release = r)));
      const put = driver.put({ key: k, body: source, size: data.length, md5: md5(data), contentType: 'image/jpeg', signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(put, (err: Error) => err.name === 'AbortError');
      release();
      assert.equal(source.destroyed, true);
      assert.equal(await driver.head(k), null);
    });

    it('rejects hostile keys before touching the store', async () => {
      const hostile = ['', '../x', '/abs', 'a/../../b', 'a/..', 'a\u0000b', 'a\nb', 'a\u007fb', 'a\\..\\b', 'a//b', './a', 'k'.repeat(1025), '😀'.repeat(300)];
      for (const k of hostile) {
        for (const d of [driver, h.unreachable]) {
          await assert.rejects(d.put({ key: k, body: bodyFrom(Buffer.from('x')), size: 1, md5: md5('x'), contentType: 'text/plain' }), InvalidKeyError, `put ${JSON.stringify(k)}`);
          await assert.rejects(d.head(k), InvalidKeyError);
          await assert.rejects(d.get(k), InvalidKeyError);
          await assert.rejects(d.delete(k), InvalidKeyError);
          await assert.rejects(d.readUrl(k), InvalidKeyError);
        }
      }
      assert.equal(isRetryableStorageError(new InvalidKeyError('../x', 'test')), false);
    });

    it('keys built by objectKey from hostile Drive names round-trip, and readUrl serves them', async () => {
      const names = ['..', '/', '../../etc/passwd', '😀 smile.jpg', `${'n'.repeat(500)}.png`, 'a\u0000b\nc.jpg', 'per%20cent #?&+=.jpg', '.hidden', 'CON', 'Ünïcödé.JPG'];
      const keys = names.map((name, i) =>
        objectKey({ prefix: 'drive-import', rootFolderId: 'root-folder-id', folderPath: i % 2 ? '../../😀/..' : 'a/b', name }),
      );
      assert.equal(new Set(keys).size, keys.length);
      for (const [i, k] of keys.entries()) {
        assert.ok(!k.includes('..'));
        await putBytes(driver, k, Buffer.from(`object ${i}: ${names[i]}`));
      }
      for (const [i, k] of keys.entries()) {
        assert.deepEqual(await contentOf(driver, k), Buffer.from(`object ${i}: ${names[i]}`), `content of ${k}`);
        const res = await fetch(await driver.readUrl(k, 600));
        assert.equal(res.status, 200, `readUrl of ${k}`);
        assert.equal(await res.text(), `object ${i}: ${names[i]}`);
      }
    });

    it('readUrl serves a binary object with its bytes', async () => {
      const data = bytesOf(200 * 1024, 9);
      const k = key('read-url.jpg');
      await putBytes(driver, k, data);
      const res = await fetch(await driver.readUrl(k));
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
      await assert.rejects(driver.readUrl(k, 0));
    });

    it('check() passes on a reachable, writable store', async () => {
      await driver.check();
      await driver.check();
    });

    it('refuses every key outside STORAGE_KEY_PREFIX, segment-wise, before touching the store', async () => {
      // `drive-importX` starts with the prefix as a string, but is another folder.
      const outside = ['drive-importX/a.jpg', 'drive-import', 'other/drive-import/a.jpg', 'Drive-Import/a.jpg', 'drive-import.jpg', 'x.jpg'];
      for (const k of outside) {
        for (const d of [driver, h.unreachable]) {
          const refused = (err: unknown) => err instanceof KeyOutsidePrefixError && err instanceof InvalidKeyError && /STORAGE_KEY_PREFIX/.test(err.message);
          await assert.rejects(d.put({ key: k, body: bodyFrom(Buffer.from('x')), size: 1, md5: md5('x'), contentType: 'text/plain' }), refused, `put ${k}`);
          await assert.rejects(d.head(k), refused, `head ${k}`);
          await assert.rejects(d.get(k), refused, `get ${k}`);
          await assert.rejects(d.delete(k), refused, `delete ${k}`);
          await assert.rejects(d.readUrl(k), refused, `readUrl ${k}`);
        }
      }
      assert.equal(isRetryableStorageError(new KeyOutsidePrefixError('x', 'drive-import')), false);
    });

    it('a nested prefix is matched segment-wise, and an empty one allows the whole store', async () => {
      const options = { localReadBaseUrl: 'http://127.0.0.1:1', urlSigningSecret: URL_SIGNING_SECRET };
      const nested = createStorageDriver(provider, storageConfig({ ...h.env, STORAGE_KEY_PREFIX: '/drive-import/nested/' }), options);
      // In env '' means unset (the default, drive-import): '/' is how a deployment says "the whole store".
      const whole = createStorageDriver(provider, storageConfig({ ...h.env, STORAGE_KEY_PREFIX: '/' }), options);
      try {
        await putBytes(nested, 'drive-import/nested/in.jpg', Buffer.from('in'));
        await assert.rejects(nested.head('drive-import/nestedX/in.jpg'), KeyOutsidePrefixError);
        await assert.rejects(nested.head('drive-import/in.jpg'), KeyOutsidePrefixError);
        await nested.check();
        const anywhere = `anywhere-${provider}/x.txt`;
        await putBytes(whole, anywhere, Buffer.from('anywhere'));
        assert.deepEqual(await contentOf(whole, anywhere), Buffer.from('anywhere'));
        assert.equal(await whole.delete(anywhere), true);
        await whole.check();
        assert.equal(await whole.delete('drive-import/nested/in.jpg'), true);
      } finally {
        await Promise.all([nested.close(), whole.close()]);
      }
    });

    it('check() writes its probe object inside the prefix, and removes it', async () => {
      const keys: string[] = [];
      for (const prefix of ['drive-import', 'drive-import/deeper/', '']) {
        const d = createStorageDriver(provider, { ...storageConfig(h.env), STORAGE_KEY_PREFIX: prefix });
        const put = d.put.bind(d);
        const del = d.delete.bind(d);
        const seen: string[] = [];
        d.put = (input: PutInput) => {
          seen.push(input.key);
          return put(input);
        };
        d.delete = (k: string) => {
          seen.push(k);
          return del(k);
        };
        try {
          await d.check();
          assert.equal(seen.length, 2, `${prefix}: one put and one delete`);
          assert.equal(seen[0], seen[1]);
          assert.equal(await d.head(seen[0]!), null, 'the probe is gone');
        } finally {
          await d.close();
        }
        for (const k of seen) keys.push(k);
      }
      assert.match(keys[0]!, /^drive-import\/\.probe-[0-9a-f-]{36}$/);
      assert.match(keys[2]!, /^drive-import\/deeper\/\.probe-/);
      assert.match(keys[4]!, /^\.probe-[0-9a-f-]{36}$/);
    });

    it(`read URLs live ${DEFAULT_URL_TTL_SECONDS / 60} minutes unless asked otherwise`, async () => {
      assert.equal(DEFAULT_URL_TTL_SECONDS, 900);
      const k = key('ttl.jpg');
      await putBytes(driver, k, Buffer.from('ttl'));
      for (const [ttl, want] of [[undefined, 900], [60, 60]] as const) {
        const before = Math.floor(Date.now() / 1000);
        const url = new URL(await driver.readUrl(k, ttl));
        const after = Math.ceil(Date.now() / 1000);
        if (provider === 's3') assert.equal(url.searchParams.get('X-Amz-Expires'), String(want));
        else {
          // Azure: the SAS end (se); local: the signed expiry (unix seconds).
          const end = provider === 'azure' ? Date.parse(url.searchParams.get('se')!) / 1000 : Number(url.searchParams.get('expires'));
          assert.ok(end >= before + want - 1 && end <= after + want, `${provider}: ends at ${end}, asked ${want} s from ${before}`);
        }
      }
      await driver.delete(k);
    });

    it('check() fails clearly when the store is missing or unreachable', async () => {
      for (const b of h.broken) {
        const d = createStorageDriver(provider, b.config);
        try {
          await assert.rejects(d.check(), (err: Error) => {
            assert.match(err.message, new RegExp(`^${provider} store`));
            assert.match(err.message, b.message, `${b.label}: ${err.message}`);
            assert.equal(isRetryableStorageError(err), b.retryable, `${b.label} retryable`);
            return true;
          });
        } finally {
          await d.close();
        }
      }
    });
  });
}

describe('Range headers (one range; RFC 9110)', () => {
  it('parses bytes=a-b, a- and -n; ignores several ranges, other units and a-b with b < a', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=100-'), { start: 100, end: null });
    assert.deepEqual(parseRangeHeader('bytes=-500'), { suffix: 500 });
    for (const ignored of [undefined, '', 'bytes=0-1,5-9', 'items=0-1', 'bytes=9-5', 'bytes=-', 'bytes=a-b']) assert.equal(parseRangeHeader(ignored), null, String(ignored));
  });
  it('resolves against the size: clipped to the end, null (416) when no byte is in the object', () => {
    assert.deepEqual(resolveRange({ start: 0, end: 99 }, 50), { start: 0, end: 49 });
    assert.deepEqual(resolveRange({ start: 10, end: null }, 50), { start: 10, end: 49 });
    assert.deepEqual(resolveRange({ suffix: 20 }, 50), { start: 30, end: 49 });
    assert.deepEqual(resolveRange({ suffix: 500 }, 50), { start: 0, end: 49 });
    assert.equal(resolveRange({ start: 50, end: null }, 50), null);
    assert.equal(resolveRange({ suffix: 0 }, 50), null);
    assert.equal(resolveRange({ start: 0, end: 0 }, 0), null);
  });
});
