import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidKeyError, StorageUsageError } from './errors.ts';
import { assertSafeKey, encodeKeyPath } from './keys.ts';
import { probe, urlTtl } from './probe.ts';
import type { DriverOptions, ObjectInfo, PutInput, PutResult, StorageConfig, StorageDriver } from './types.ts';
import { verifiedBody, type VerifiedBody } from './verify.ts';

/** Sidecars (`{md5, size, contentType}` per object) live in their own tree, so no key can collide with one. */
export const LOCAL_META_DIR = '.drive-import-meta';

interface Sidecar {
  md5: string;
  size: number;
  contentType: string;
}

const missing = (err: unknown) => {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

export class LocalDriver implements StorageDriver {
  readonly provider = 'local' as const;
  readonly root: string;
  readonly #probePrefix: string;
  readonly #baseUrl: DriverOptions['localReadBaseUrl'];

  constructor(config: StorageConfig, options: DriverOptions = {}) {
    this.root = resolve(config.LOCAL_STORAGE_DIR);
    this.#probePrefix = config.STORAGE_KEY_PREFIX;
    this.#baseUrl = options.localReadBaseUrl;
  }

  /** The object's path and its sidecar's; the resolved path must stay inside the root. */
  #paths(key: string): { file: string; meta: string } {
    assertSafeKey(key);
    if (key.split('/')[0] === LOCAL_META_DIR) throw new InvalidKeyError(key, `${LOCAL_META_DIR}/ is reserved`);
    const file = resolve(this.root, key);
    const meta = resolve(this.root, LOCAL_META_DIR, `${key}.json`);
    if (!file.startsWith(this.root + sep) || !meta.startsWith(join(this.root, LOCAL_META_DIR) + sep)) {
      throw new InvalidKeyError(key, 'resolves outside the storage directory');
    }
    return { file, meta };
  }

  async put(input: PutInput): Promise<PutResult> {
    const { file, meta } = this.#paths(input.key);
    const body: VerifiedBody = verifiedBody(input);
    // Temp names in the target directories, so the final renames are atomic (same file system).
    const tmpFile = join(dirname(file), `.tmp-${randomUUID()}`);
    const tmpMeta = join(dirname(meta), `.tmp-${randomUUID()}`);
    try {
      await Promise.all([mkdir(dirname(file), { recursive: true }), mkdir(dirname(meta), { recursive: true })]);
      // flush: fsync before close, so a renamed file is never a hole after a crash.
      await pipeline(body.stream, createWriteStream(tmpFile, { flags: 'wx', flush: true }), { signal: body.signal });
      if (!body.stream.verified) throw new Error(`body of ${input.key} ended unverified`);
      const { md5, size } = body.stream.result;
      const sidecar: Sidecar = { md5, size, contentType: input.contentType };
      await writeFile(tmpMeta, JSON.stringify(sidecar), { flag: 'wx' });
      // Old sidecar out first: a crash in between leaves md5 unknown (null), never a wrong one.
      await rm(meta, { force: true });
      await rename(tmpFile, file);
      await rename(tmpMeta, meta);
      return { key: input.key, etag: md5, md5, size };
    } catch (err) {
      await Promise.all([rm(tmpFile, { force: true }), rm(tmpMeta, { force: true })]);
      body.rethrow(err);
    } finally {
      body.dispose();
    }
  }

  async #sidecar(meta: string, size: number): Promise<Sidecar | null> {
    try {
      const s = JSON.parse(await readFile(meta, 'utf8')) as Sidecar;
      return s.size === size ? s : null;
    } catch {
      return null;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const { file, meta } = this.#paths(key);
    try {
      const st = await stat(file);
      if (!st.isFile()) return null;
      const side = await this.#sidecar(meta, st.size);
      return { key, size: st.size, contentType: side?.contentType ?? null, md5: side?.md5 ?? null, etag: side?.md5 ?? null, lastModified: st.mtime };
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async get(key: string): Promise<{ info: ObjectInfo; body: Readable } | null> {
    const { file, meta } = this.#paths(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (missing(err) || (err as { code?: string }).code === 'EISDIR') return null;
      throw err;
    }
    try {
      // stat the open handle: a concurrent replace cannot mix two versions.
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return null;
      }
      const side = await this.#sidecar(meta, st.size);
      const info: ObjectInfo = { key, size: st.size, contentType: side?.contentType ?? null, md5: side?.md5 ?? null, etag: side?.md5 ?? null, lastModified: st.mtime };
      return { info, body: handle.createReadStream() };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const { file, meta } = this.#paths(key);
    let existed = true;
    try {
      await unlink(file);
    } catch (err) {
      if (!missing(err)) throw err;
      existed = false;
    }
    await rm(meta, { force: true });
    return existed;
  }

  /** The storage-service route serves local objects; it signs nothing, so the lifetime is only checked. */
  async readUrl(key: string, ttlSeconds?: number): Promise<string> {
    this.#paths(key);
    urlTtl(ttlSeconds);
    const base = typeof this.#baseUrl === 'function' ? this.#baseUrl() : this.#baseUrl;
    if (!base) throw new StorageUsageError('local storage has no read URL: pass localReadBaseUrl (the storage-service URL)');
    return `${base.replace(/\/+$/, '')}/objects/${encodeKeyPath(key)}`;
  }

  async check(): Promise<void> {
    await probe(this, this.#probePrefix, `directory ${this.root}`);
  }

  async close(): Promise<void> {}
}
