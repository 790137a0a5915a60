/** The local driver on a real disk: symbolic links, its reserved names, the temp-file sweep and signed read URLs. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { tempDir, waitFor } from '@drive-import/testing';
import {
  InvalidKeyError,
  LOCAL_META_DIR,
  LocalDriver,
  StorageUsageError,
  urlSigningKey,
  verifyReadUrl,
} from '../src/index.ts';
import { md5, readAll } from './helpers.ts';
import { storageConfig, URL_SIGNING_SECRET } from './stores.ts';

const exists = (path: string) => lstat(path).then(() => true, () => false);
const putText = (driver: LocalDriver, key: string, text: string) =>
  driver.put({ key, body: Readable.from([Buffer.from(text)], { objectMode: false }), size: Buffer.byteLength(text), md5: md5(text), contentType: 'text/plain' });

describe('local driver: symbolic links are never followed out of the root', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let root: string;
  let outside: string;
  let driver: LocalDriver;

  before(async () => {
    dir = await tempDir('local-links');
    root = join(dir.path, 'objects');
    outside = join(dir.path, 'outside');
    await mkdir(join(root, 'drive-import'), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'not yours');
    driver = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: root }));
  });
  after(() => dir?.cleanup());

  it('a linked folder that points outside: get, head, put and delete all refuse it', async () => {
    await symlink(outside, join(root, 'drive-import', 'evil'), 'dir');
    const key = 'drive-import/evil/secret.txt';
    await assert.rejects(driver.get(key), InvalidKeyError);
    await assert.rejects(driver.head(key), InvalidKeyError);
    await assert.rejects(driver.delete(key), InvalidKeyError);
    await assert.rejects(putText(driver, key, 'overwritten'), InvalidKeyError);
    await assert.rejects(putText(driver, 'drive-import/evil/sub/new.txt', 'planted'), InvalidKeyError);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'not yours');
    assert.equal(await exists(join(outside, 'sub')), false, 'no folder made outside the root');
  });

  it('a linked file that points outside: get, head and delete refuse it; put replaces the link, never the target', async () => {
    const key = 'drive-import/link.txt';
    await symlink(join(outside, 'secret.txt'), join(root, key));
    await assert.rejects(driver.get(key), InvalidKeyError);
    await assert.rejects(driver.head(key), InvalidKeyError);
    await assert.rejects(driver.delete(key), InvalidKeyError);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'not yours');
    await putText(driver, key, 'a real object');
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'not yours');
    assert.equal((await lstat(join(root, key))).isSymbolicLink(), false);
    const got = await driver.get(key);
    assert.equal((await readAll(got!.body)).toString(), 'a real object');
  });

  it('a linked sidecar tree that points outside is refused too', async () => {
    const d = await tempDir('local-meta-link');
    try {
      const r = join(d.path, 'objects');
      await mkdir(r, { recursive: true });
      await mkdir(join(d.path, 'elsewhere'));
      await symlink(join(d.path, 'elsewhere'), join(r, LOCAL_META_DIR), 'dir');
      const linked = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: r }));
      await assert.rejects(putText(linked, 'drive-import/a.txt', 'x'), InvalidKeyError);
      assert.equal(await exists(join(d.path, 'elsewhere', 'drive-import')), false);
    } finally {
      await d.cleanup();
    }
  });

  it('a root that is itself a link works as usual (links inside the real root are fine)', async () => {
    const d = await tempDir('local-root-link');
    try {
      await mkdir(join(d.path, 'real'));
      await symlink(join(d.path, 'real'), join(d.path, 'root'), 'dir');
      const linkedRoot = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: join(d.path, 'root') }));
      await putText(linkedRoot, 'drive-import/a/b.txt', 'fine');
      assert.equal((await linkedRoot.head('drive-import/a/b.txt'))?.size, 4);
      await symlink(join(d.path, 'real', 'drive-import', 'a'), join(d.path, 'real', 'drive-import', 'alias'), 'dir');
      assert.equal((await linkedRoot.head('drive-import/alias/b.txt'))?.size, 4);
      assert.equal(await linkedRoot.delete('drive-import/a/b.txt'), true);
      await linkedRoot.check();
    } finally {
      await d.cleanup();
    }
  });
});

describe('local driver: reserved names', () => {
  it(`refuses ${LOCAL_META_DIR} as any segment, in any letter case (case-insensitive disks)`, async () => {
    const d = await tempDir('local-meta-case');
    try {
      // The whole directory allowed ('/'), so a key could start at the sidecar tree itself.
      const driver = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: d.path, STORAGE_KEY_PREFIX: '/' }));
      await putText(driver, 'drive-import/a.jpg', 'object');
      const sidecarKey = `${LOCAL_META_DIR}/drive-import/a.jpg.json`;
      for (const k of [
        sidecarKey,
        '.Drive-Import-Meta/drive-import/a.jpg.json',
        '.DRIVE-IMPORT-META/drive-import/a.jpg.json',
        'drive-import/.drive-import-META/x',
        '.drıve-ımport-meta/drive-import/a.jpg.json', // dotless i: upper-cases to I
        '.drive-import-meta./drive-import/a.jpg.json', // a trailing dot vanishes on Windows
      ]) {
        await assert.rejects(driver.get(k), InvalidKeyError, k);
        await assert.rejects(driver.head(k), InvalidKeyError, k);
        await assert.rejects(driver.delete(k), InvalidKeyError, k);
        await assert.rejects(putText(driver, k, '{"md5":"0","size":1,"contentType":"text/html"}'), InvalidKeyError, k);
      }
      assert.equal((await driver.head('drive-import/a.jpg'))?.contentType, 'text/plain', 'the sidecar is untouched');
    } finally {
      await d.cleanup();
    }
  });

  it('refuses .tmp-<uuid> names (they are uploads in progress)', async () => {
    const d = await tempDir('local-tmp-name');
    try {
      const driver = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: d.path }));
      await assert.rejects(driver.head(`drive-import/.tmp-${randomUUID()}`), InvalidKeyError);
      // Other names starting with .tmp- are ordinary keys.
      await putText(driver, 'drive-import/.tmp-notes.txt', 'kept');
      assert.equal((await driver.head('drive-import/.tmp-notes.txt'))?.size, 4);
    } finally {
      await d.cleanup();
    }
  });
});

describe('local driver: stale temp files are swept', () => {
  it('sweep() removes .tmp-<uuid> files older than an hour in both trees, and keeps everything else', async () => {
    const d = await tempDir('local-sweep');
    try {
      const driver = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: d.path }));
      await putText(driver, 'drive-import/a/keep.jpg', 'object');
      await putText(driver, 'drive-import/a/.tmp-notes.txt', 'an object, not a temp file');
      const old = new Date(Date.now() - 2 * 3600_000);
      const stale = [join(d.path, 'drive-import', 'a', `.tmp-${randomUUID()}`), join(d.path, LOCAL_META_DIR, 'drive-import', 'a', `.tmp-${randomUUID()}`)];
      const fresh = join(d.path, 'drive-import', 'a', `.tmp-${randomUUID()}`);
      for (const f of [...stale, fresh]) await writeFile(f, 'half an upload');
      for (const f of stale) await utimes(f, old, old);
      assert.equal(await driver.sweep(), 2);
      for (const f of stale) assert.equal(await exists(f), false, f);
      assert.equal(await exists(fresh), true, 'an upload in progress stays');
      assert.equal((await driver.head('drive-import/a/keep.jpg'))?.md5, md5('object'));
      assert.equal((await driver.head('drive-import/a/.tmp-notes.txt'))?.size, 26);
      assert.equal(await new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: join(d.path, 'none') })).sweep(), 0, 'no root: nothing to do');
    } finally {
      await d.cleanup();
    }
  });

  it("a driver's first put sweeps in the background (the worker and storage-service need no extra call)", async () => {
    const d = await tempDir('local-sweep-start');
    try {
      const staleFile = join(d.path, 'drive-import', `.tmp-${randomUUID()}`);
      await mkdir(join(d.path, 'drive-import'), { recursive: true });
      await writeFile(staleFile, 'left by a crash');
      const old = new Date(Date.now() - 2 * 3600_000);
      await utimes(staleFile, old, old);
      const driver = new LocalDriver(storageConfig({ LOCAL_STORAGE_DIR: d.path }));
      await putText(driver, 'drive-import/new.jpg', 'new');
      await waitFor('the stale temp file to be swept', async () => !(await exists(staleFile)), 5000);
      assert.equal((await stat(join(d.path, 'drive-import', 'new.jpg'))).size, 3);
    } finally {
      await d.cleanup();
    }
  });
});

describe('local driver: read URLs are signed', () => {
  it('readUrl gives <base>/objects/<key>?expires=&signature= that verifies for that key only, and needs the secret', async () => {
    const d = await tempDir('local-sign');
    try {
      const config = storageConfig({ LOCAL_STORAGE_DIR: d.path });
      const driver = new LocalDriver(config, { localReadBaseUrl: 'http://storage.test/', urlSigningSecret: URL_SIGNING_SECRET });
      const key = 'drive-import/a b/ç.jpg';
      const url = new URL(await driver.readUrl(key, 120));
      assert.equal(`${url.origin}${url.pathname}`, 'http://storage.test/objects/drive-import/a%20b/%C3%A7.jpg');
      const expires = url.searchParams.get('expires')!;
      const signature = url.searchParams.get('signature')!;
      assert.match(signature, /^[0-9a-f]{64}$/);
      const signingKey = urlSigningKey(URL_SIGNING_SECRET);
      assert.equal(verifyReadUrl(signingKey, key, expires, signature), 'ok');
      assert.equal(verifyReadUrl(signingKey, 'drive-import/other.jpg', expires, signature), 'invalid');
      assert.equal(verifyReadUrl(signingKey, key, String(Number(expires) + 1), signature), 'invalid');
      assert.equal(verifyReadUrl(urlSigningKey('another-secret-0123456789abcdefghijkl'), key, expires, signature), 'invalid');
      assert.equal(verifyReadUrl(signingKey, key, expires, signature, Number(expires) + 1), 'expired');
      assert.equal(verifyReadUrl(signingKey, key, undefined, signature), 'invalid');
      assert.equal(verifyReadUrl(signingKey, key, expires, 'zz'), 'invalid');
      await assert.rejects(new LocalDriver(config, { localReadBaseUrl: 'http://storage.test' }).readUrl(key), StorageUsageError);
    } finally {
      await d.cleanup();
    }
  });
});
