import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Destination, storageEnv } from '@drive-import/common';
import type { ByteRange } from './range.ts';

/** The stores are the job destinations (`Destination` in the contracts): one driver per destination. */
export type StorageProvider = Destination;

/** The parsed `storageEnv` fragment (extra keys are fine: services pass their whole config). */
export type StorageConfig = z.infer<z.ZodObject<typeof storageEnv>>;

export interface PutInput {
  key: string;
  body: Readable;
  /** Expected size in bytes (from Drive), or null when unknown. */
  size: number | null;
  /** Expected md5, hex, from Drive; null when unknown (then only the size, if any, is checked). */
  md5: string | null;
  contentType: string;
  signal?: AbortSignal;
}

export interface PutResult {
  key: string;
  etag: string | null;
  size: number;
  /** Hex md5 of the bytes actually received. */
  md5: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType: string | null;
  md5: string | null;
  etag: string | null;
  lastModified: Date | null;
}

export interface StorageDriver {
  readonly provider: StorageProvider;
  put(input: PutInput): Promise<PutResult>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * The object's bytes, or only `range` of them (inclusive offsets within it, resolved by the caller);
   * `info.size` is the whole object's size either way.
   */
  get(key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable } | null>;
  /** True when an object was there. */
  delete(key: string): Promise<boolean>;
  readUrl(key: string, ttlSeconds?: number): Promise<string>;
  /** Reachable AND writable: puts and deletes a probe object; throws a readable error otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface DriverOptions {
  /** Base URL of the route that serves local objects (`<base>/objects/<key>`); a function when only known after listen. */
  localReadBaseUrl?: string | (() => string);
  /**
   * The secret local read URLs are signed with (INTERNAL_TOKEN; a key is derived from it, see
   * signing.ts): the storage-service serves `/objects/<key>?expires=&signature=` without a token.
   * Without it the local driver gives no read URLs.
   */
  urlSigningSecret?: string;
}

/** Presigned S3 URLs, Azure SAS URLs and signed local URLs live 15 minutes unless asked otherwise. */
export const DEFAULT_URL_TTL_SECONDS = 15 * 60;
/** S3 presigned URLs stop at 7 days; the same bound keeps Azure SAS and callers consistent. */
export const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;
