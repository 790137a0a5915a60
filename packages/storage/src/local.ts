import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, opendir, realpath, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidKeyError, StorageUsageError } from './errors.ts';
import { assertKeyInPrefix, assertSafeKey, encodeKeyPath, normalizeKeyPrefix } from './keys.ts';
import { probe, urlTtl } from './probe.ts';
import type { ByteRange } from './range.ts';
import { readUrlSignature, urlSigningKey } from './signing.ts';
import type { DriverOptions, ObjectInfo, PutInput, PutResult, StorageConfig, StorageDriver } from './types.ts';
import { verifiedBody, type VerifiedBody } from './verify.ts';

/**
 * Sidecars (`{md5, size, contentType}` per object) live in their own tree, so no key can collide with
 * one. No key may name it in any case (`.Drive-Import-Meta` is the same folder on a case-insensitive disk).
 */
export const LOCAL_META_DIR = '.drive-import-meta';
/** Upload temp files older than this are debris of a crash: sweep() removes them. */
export const LOCAL_TMP_MAX_AGE_MS = 60 * 60_000;

/** The temp names put() writes before its atomic renames; reserved, so no key can be one. */
const TMP_NAME = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tmpName = () => `.tmp-${randomUUID()}`;
/** open() flags that refuse to follow a symbolic link in the last component (0 where the OS has none). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * How a case-insensitive (and Unicode-folding, trailing-dot-dropping) file system may see a name:
 * `.DRIVE-IMPORT-META`, `.drıve-ımport-meta` (dotless i) and `.drive-import-meta.` all fold to the same.
 */
const folded = (segment: string) =>
  segment
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .replace(/[. ]+$/, '');

interface Sidecar {
  md5: string;
  size: number;
  contentType: string;
}

const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;
const missing = (err: unknown) => {
  const code = codeOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

export class LocalDriver implements StorageDriver {
  readonly provider = 'local' as const;
  readonly root: string;
  /** STORAGE_KEY_PREFIX, normalized: every key must lie under it. */
  readonly keyPrefix: string;
  readonly #baseUrl: DriverOptions['localReadBaseUrl'];
  readonly #signingKey: Buffer | null;
  #realRoot: string | null = null;
  #sweep: Promise<number> | null = null;

  constructor(config: StorageConfig, options: DriverOptions = {}) {
    this.root = resolve(config.LOCAL_STORAGE_DIR);
    this.keyPrefix = normalizeKeyPrefix(config.STORAGE_KEY_PREFIX);
    this.#baseUrl = options.localReadBaseUrl;
    this.#signingKey = options.urlSigningSecret ? urlSigningKey(options.urlSigningSecret) : null;
  }

  /** The object's path and its sidecar's, lexically inside the root (symbolic links are checked on use). */
  #paths(key: string): { file: string; meta: string } {
    assertSafeKey(key);
    assertKeyInPrefix(key, this.keyPrefix);
    const segments = key.split('/');
    if (segments.some((s) => folded(s) === LOCAL_META_DIR)) throw new InvalidKeyError(key, `${LOCAL_META_DIR} is reserved (in any letter case)`);
    if (segments.some((s) => TMP_NAME.test(s))) throw new InvalidKeyError(key, '.tmp-<uuid> names are reserved for uploads in progress');
    const file = resolve(this.root, key);
    const meta = resolve(this.root, LOCAL_META_DIR, `${key}.json`);
    if (!file.startsWith(this.root + sep) || !meta.startsWith(join(this.root, LOCAL_META_DIR) + sep)) {
      throw new InvalidKeyError(key, 'resolves outside the storage directory');
    }
    return { file, meta };
  }

  /** The root's real path (symbolic links resolved), or null while it does not exist. */
  async #root(create: boolean): Promise<string | null> {
    if (this.#realRoot) return this.#realRoot;
    if (create) await mkdir(this.root, { recursive: true });
    try {
      this.#realRoot = await realpath(this.root);
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
    return this.#realRoot;
  }

  /**
   * The deepest existing folder on the way to `path`, resolved through every symbolic link, must lie
   * inside the real root: a link in the tree that points out of it is never followed.
   */
  async #assertInside(key: string, path: string, realRoot: string): Promise<void> {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      let real: string;
      try {
        real = await realpath(dir);
      } catch (err) {
        if (!missing(err)) throw err;
        // Not there yet: its parent decides. The root itself gone: nothing to follow.
        if (dir.startsWith(this.root + sep)) continue;
        return;
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) {
        throw new InvalidKeyError(key, 'resolves outside the storage directory (through a symbolic link)');
      }
      return;
    }
  }

  /** The paths for a key whose folders are all inside the root; null when the root does not exist yet. */
  async #locate(key: string, create = false): Promise<{ file: string; meta: string } | null> {
    const paths = this.#paths(key);
    const realRoot = await this.#root(create);
    if (!realRoot) return null;
    await this.#assertInside(key, paths.file, realRoot);
    await this.#assertInside(key, paths.meta, realRoot);
    return paths;
  }

  /** lstat, refusing a symbolic link in the last component; null when nothing is there. */
  async #lstatFile(key: string, path: string) {
    try {
      const st = await lstat(path);
      if (st.isSymbolicLink()) throw new InvalidKeyError(key, 'is a symbolic link (never followed)');
      return st;
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async put(input: PutInput): Promise<PutResult> {
    this.#paths(input.key);
    // The first write of a process clears what crashed uploads left (in the background).
    this.#sweep ??= this.sweep().catch(() => 0);
    const body: VerifiedBody = verifiedBody(input);
    let tmpFile: string | null = null;
    let tmpMeta: string | null = null;
    try {
      const { file, meta } = (await this.#locate(input.key, true))!;
      await Promise.all([mkdir(dirname(file), { recursive: true }), mkdir(dirname(meta), { recursive: true })]);
      // Again once the folders exist: one swapped for a link in the meantime is caught here.
      await this.#assertInside(input.key, file, this.#realRoot!);
      await this.#assertInside(input.key, meta, this.#realRoot!);
      // Temp names in the target directories, so the final renames are atomic (same file system).
      tmpFile = join(dirname(file), tmpName());
      tmpMeta = join(dirname(meta), tmpName());
      // flush: fsync before close, so a renamed file is never a hole after a crash. 'wx' never follows a link.
      await pipeline(body.stream, createWriteStream(tmpFile, { flags: 'wx', flush: true }), { signal: body.signal });
      if (!body.stream.verified) throw new Error(`body of ${input.key} ended unverified`);
      const { md5, size } = body.stream.result;
      const sidecar: Sidecar = { md5, size, contentType: input.contentType };
      await writeFile(tmpMeta, JSON.stringify(sidecar), { flag: 'wx' });
      // Old sidecar out first: a crash in between leaves md5 unknown (null), never a wrong one.
      // rm and rename act on a link itself, never on what it points at.
      await rm(meta, { force: true });
      await rename(tmpFile, file);
      await rename(tmpMeta, meta);
      return { key: input.key, etag: md5, md5, size };
    } catch (err) {
      await Promise.all([tmpFile && rm(tmpFile, { force: true }), tmpMeta && rm(tmpMeta, { force: true })]);
      body.rethrow(err);
    } finally {
      body.dispose();
    }
  }

  /** The sidecar when it describes a file of this size (a link or anything odd: none). */
  async #sidecar(meta: string, size: number): Promise<Sidecar | null> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(meta, constants.O_RDONLY | NO_FOLLOW);
      const s = JSON.parse(await handle.readFile('utf8')) as Sidecar;
      return s.size === size ? s : null;
    } catch {
      return null;
    } finally {
      await handle?.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const paths = await this.#locate(key);
    if (!paths) return null;
    const st = await this.#lstatFile(key, paths.file);
    if (!st?.isFile()) return null;
    const side = await this.#sidecar(paths.meta, st.size);
    return { key, size: st.size, contentType: side?.contentType ?? null, md5: side?.md5 ?? null, etag: side?.md5 ?? null, lastModified: st.mtime };
  }

  async get(key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable } | null> {
    const paths = await this.#locate(key);
    if (!paths) return null;
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a link in the last component fails here (ELOOP) instead of being read through.
      handle = await open(paths.file, constants.O_RDONLY | NO_FOLLOW);
    } catch (err) {
      if (missing(err) || codeOf(err) === 'EISDIR') return null;
      if (codeOf(err) === 'ELOOP' || codeOf(err) === 'EMLINK') throw new InvalidKeyError(key, 'is a symbolic link (never followed)');
      throw err;
    }
    try {
      // stat the open handle: a concurrent replace cannot mix two versions.
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return null;
      }
      const side = await this.#sidecar(paths.meta, st.size);
      const info: ObjectInfo = { key, size: st.size, contentType: side?.contentType ?? null, md5: side?.md5 ?? null, etag: side?.md5 ?? null, lastModified: st.mtime };
      return { info, body: handle.createReadStream(range ? { start: range.start, end: range.end } : {}) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const paths = await this.#locate(key);
    if (!paths) return false;
    // A link is refused rather than removed: the driver never made it.
    const st = await this.#lstatFile(key, paths.file);
    let existed = st !== null && !st.isDirectory();
    if (existed) {
      try {
        await unlink(paths.file);
      } catch (err) {
        if (!missing(err)) throw err;
        existed = false;
      }
    }
    await rm(paths.meta, { force: true });
    return existed;
  }

  /**
   * A URL of the storage-service's `/objects/<key>` route, signed like a presigned URL (see
   * signing.ts): it works without a token until it expires.
   */
  async readUrl(key: string, ttlSeconds?: number): Promise<string> {
    this.#paths(key);
    const ttl = urlTtl(ttlSeconds);
    const base = typeof this.#baseUrl === 'function' ? this.#baseUrl() : this.#baseUrl;
    if (!base) throw new StorageUsageError('local storage has no read URL: pass localReadBaseUrl (the storage-service URL)');
    if (!this.#signingKey) throw new StorageUsageError('local read URLs are signed: pass urlSigningSecret (INTERNAL_TOKEN)');
    const expires = Math.floor(Date.now() / 1000) + ttl;
    return `${base.replace(/\/+$/, '')}/objects/${encodeKeyPath(key)}?expires=${expires}&signature=${readUrlSignature(this.#signingKey, key, expires)}`;
  }

  async check(): Promise<void> {
    await probe(this, this.keyPrefix, `directory ${this.root}`);
  }

  /**
   * Remove the `.tmp-<uuid>` files of uploads that died (a crash between write and rename) older
   * than `maxAgeMs`, in the object tree and the sidecar tree. Links are never followed. Returns the
   * number removed. put() starts one in the background on a driver's first write.
   */
  async sweep(maxAgeMs = LOCAL_TMP_MAX_AGE_MS): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: Awaited<ReturnType<typeof opendir>>;
      try {
        entries = await opendir(dir);
      } catch (err) {
        if (missing(err)) return;
        throw err;
      }
      for await (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && TMP_NAME.test(entry.name)) {
          try {
            if ((await lstat(path)).mtimeMs < cutoff) {
              await unlink(path);
              removed++;
            }
          } catch (err) {
            if (!missing(err)) throw err;
          }
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  async close(): Promise<void> {}
}
