import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type * as Presigner from '@aws-sdk/s3-request-presigner';
import { assertKeyInPrefix, assertSafeKey, encodeKeyPath, normalizeKeyPrefix } from './keys.ts';
import { probe, urlTtl } from './probe.ts';
import { publicUrl, secretsOf } from './redact.ts';
import { ConfigError } from '@drive-import/common';
import { type ByteRange, sizeFromContentRange } from './range.ts';
import type { ObjectInfo, PutInput, PutResult, StorageConfig, StorageDriver } from './types.ts';
import { createLeanPut, type LeanPut } from './s3-put.ts';
import { verifiedBody, type VerifiedBody } from './verify.ts';

// The AWS SDK loads when an S3 driver is first used, each part when first needed: a process on
// another store, or a worker still waiting for its first batch, never pays its memory (~10-25 MB)
// and start-up time; multipart and presigning load only for big files and read URLs.
const load = createRequire(import.meta.url);
type Aws = { s3: typeof S3Sdk; storage: typeof LibStorage; presigner: typeof Presigner };
const loaded: Partial<Aws> = {};
const names = { s3: '@aws-sdk/client-s3', storage: '@aws-sdk/lib-storage', presigner: '@aws-sdk/s3-request-presigner' } as const;
const sdk = <K extends keyof Aws>(part: K): Aws[K] => (loaded[part] ??= load(names[part]) as Aws[K]);

/** Up to this size a known-size body goes as one streamed PutObject (with Content-MD5); above, multipart. */
// rclone's --s3-upload-cutoff default: a streamed single PUT buffers nothing, where multipart holds parts.
export const S3_SINGLE_PUT_CUTOFF = 200 * 1024 * 1024;
/** The S3 minimum; with 2 parts in flight a multipart upload holds ~10-15 MiB, so 4 big files at once stay well inside a 250 MB worker. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
const checksumMode = (value: string | undefined): ChecksumMode => (value === 'WHEN_SUPPORTED' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED');

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** The one keep-alive pool's size and timeouts, for the SDK's handler and the lean PUT alike. */
const SOCKETS = 64;
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 120_000;

export function s3ClientConfig(config: StorageConfig): S3ClientConfig {
  return {
    region: config.S3_REGION,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    // Without explicit keys the SDK's default chain applies (instance roles, profiles, web identity).
    ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY } }
      : {}),
    // Default checksums send streamed bodies aws-chunked; many S3-compatible servers store that framing.
    // The SDK's own env names still switch it (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_SUPPORTED).
    requestChecksumCalculation: checksumMode(process.env.AWS_REQUEST_CHECKSUM_CALCULATION),
    responseChecksumValidation: checksumMode(process.env.AWS_RESPONSE_CHECKSUM_VALIDATION),
    // One keep-alive pool per driver, wide enough for many workers' concurrent puts.
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: SOCKETS },
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    // Streamed puts are never retried by the SDK (the worker retries); it would warn on the console each time.
    logger: quietLogger,
  };
}

const statusOf = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

const unquote = (etag: string | undefined): string | null => (etag ? etag.replace(/^"|"$/g, '') : null);

export class S3Driver implements StorageDriver {
  readonly provider = 's3' as const;
  readonly bucket: string;
  #client: S3Client | undefined;
  readonly #config: StorageConfig;
  /** STORAGE_KEY_PREFIX, normalized: every key must lie under it. */
  readonly keyPrefix: string;
  readonly #where: string;
  readonly #secrets: string[];
  /** Single PUTs without the SDK's middleware (s3-put.ts); null where the SDK must send them. */
  #leanPut: Promise<LeanPut | null> | undefined;

  constructor(config: StorageConfig) {
    if (!config.S3_BUCKET) throw new ConfigError('S3 storage is not configured: set S3_BUCKET (and S3_REGION, credentials, S3_ENDPOINT for S3-compatible servers)');
    this.bucket = config.S3_BUCKET;
    this.#config = config;
    this.keyPrefix = normalizeKeyPrefix(config.STORAGE_KEY_PREFIX);
    this.#where = `bucket ${this.bucket} at ${config.S3_ENDPOINT ? publicUrl(config.S3_ENDPOINT) : `AWS ${config.S3_REGION}`}`;
    this.#secrets = secretsOf(config);
  }

  /** The SDK's client, made (and the SDK loaded) on first use. */
  get client(): S3Client {
    return (this.#client ??= new (sdk('s3').S3Client)(s3ClientConfig(this.#config)));
  }

  /** A safe key under the prefix, or an InvalidKeyError before anything is sent. */
  #check(key: string): void {
    assertSafeKey(key);
    assertKeyInPrefix(key, this.keyPrefix);
  }

  async put(input: PutInput): Promise<PutResult> {
    this.#check(input.key);
    const body: VerifiedBody = verifiedBody(input);
    const base = {
      Bucket: this.bucket,
      Key: input.key,
      ContentType: input.contentType,
      ...(body.stream.expected.md5 ? { Metadata: { md5: body.stream.expected.md5 } } : {}),
    };
    try {
      let etag: string | undefined;
      if (input.size !== null && input.size <= S3_SINGLE_PUT_CUTOFF) {
        // Content-MD5 lets real S3 refuse a corrupted body too; the held-back last chunk covers the rest.
        const contentMd5 = body.stream.expected.md5 ? Buffer.from(body.stream.expected.md5, 'hex').toString('base64') : undefined;
        let payload: Readable | Buffer = body.stream;
        if (input.size === 0) {
          await body.drain();
          payload = Buffer.alloc(0);
        }
        // A failure to set it up (say, no region) falls back to the SDK, which reports it its own way.
        const lean = await (this.#leanPut ??= createLeanPut(this.client, this.bucket, { connectTimeoutMs: CONNECT_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, connections: SOCKETS }).catch(() => null));
        if (lean && payload instanceof Readable) {
          etag = await lean.put({ key: input.key, body: payload, size: input.size, contentMd5, contentType: input.contentType, metadata: base.Metadata, signal: body.signal });
        } else {
          const out = await this.client.send(
            new (sdk('s3').PutObjectCommand)({ ...base, Body: payload, ContentLength: input.size, ...(contentMd5 ? { ContentMD5: contentMd5 } : {}) }),
            { abortSignal: body.signal },
          );
          etag = out.ETag;
        }
      } else {
        // Unknown or large: multipart with bounded parts. A body error stops the part feed, and
        // lib-storage then aborts the multipart upload, so nothing is completed under the key.
        const upload = new (sdk('storage').Upload)({ client: this.client, params: { ...base, Body: body.stream }, partSize: PART_SIZE, queueSize: QUEUE_SIZE, leavePartsOnError: false });
        const out = await upload.done();
        etag = out.ETag;
      }
      if (!body.stream.verified) throw new Error(`S3 answered before the whole body of ${input.key} was sent`);
      const { md5, size } = body.stream.result;
      if (!body.stream.expected.md5) {
        // No md5 from Drive: record the computed one (a metadata-only self-copy), so head() reports it.
        const copy = await this.client.send(
          new (sdk('s3').CopyObjectCommand)({
            Bucket: this.bucket,
            Key: input.key,
            CopySource: `${this.bucket}/${encodeKeyPath(input.key)}`,
            MetadataDirective: 'REPLACE',
            ContentType: input.contentType,
            Metadata: { md5 },
          }),
        );
        etag = copy.CopyObjectResult?.ETag ?? etag;
      }
      return { key: input.key, etag: unquote(etag), md5, size };
    } catch (err) {
      body.rethrow(err);
    } finally {
      body.dispose();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    this.#check(key);
    try {
      return objectInfo(key, await this.client.send(new (sdk('s3').HeadObjectCommand)({ Bucket: this.bucket, Key: key })));
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable } | null> {
    this.#check(key);
    try {
      const out = await this.client.send(new (sdk('s3').GetObjectCommand)({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no Node stream');
      const info = objectInfo(key, out);
      // A ranged answer's ContentLength is the range's: the object's size is in ContentRange.
      if (range) info.size = sizeFromContentRange(out.ContentRange) ?? info.size;
      return { info, body: out.Body };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    // S3 deletes answer 204 either way: a head first tells whether there was something.
    const existed = (await this.head(key)) !== null;
    if (existed) await this.client.send(new (sdk('s3').DeleteObjectCommand)({ Bucket: this.bucket, Key: key }));
    return existed;
  }

  async readUrl(key: string, ttlSeconds?: number): Promise<string> {
    this.#check(key);
    return sdk('presigner').getSignedUrl(this.client, new (sdk('s3').GetObjectCommand)({ Bucket: this.bucket, Key: key }), { expiresIn: urlTtl(ttlSeconds) });
  }

  async check(): Promise<void> {
    await probe(this, this.keyPrefix, this.#where, this.#secrets);
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    await (await this.#leanPut)?.close();
  }
}

/** What HEAD and GET both answer about an object. */
function objectInfo(
  key: string,
  out: { ContentLength?: number; ContentType?: string; Metadata?: Record<string, string>; ETag?: string; LastModified?: Date },
): ObjectInfo {
  return {
    key,
    size: out.ContentLength ?? 0,
    contentType: out.ContentType ?? null,
    md5: out.Metadata?.md5 ?? null,
    etag: unquote(out.ETag),
    lastModified: out.LastModified ?? null,
  };
}
