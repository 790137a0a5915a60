import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type * as AzureSdk from '@azure/storage-blob';
import type { BlobServiceClient, ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import { ConfigError } from '@drive-import/common';
import { StorageUsageError } from './errors.ts';
import { assertKeyInPrefix, assertSafeKey, normalizeKeyPrefix } from './keys.ts';
import { probe, urlTtl } from './probe.ts';
import { publicUrl, redactSecrets, secretsOf } from './redact.ts';
import { type ByteRange, sizeFromContentRange } from './range.ts';
import type { ObjectInfo, PutInput, PutResult, StorageConfig, StorageDriver } from './types.ts';
import { verifiedBody, type VerifiedBody } from './verify.ts';

// The Azure SDK loads on the first Azure driver made: a worker or storage-service on another store
// never pays its ~25 MB of memory and start-up time.
const load = createRequire(import.meta.url);
let sdk: typeof AzureSdk | undefined;
const azure = (): typeof AzureSdk => (sdk ??= load('@azure/storage-blob') as typeof AzureSdk);

/** Block size and blocks in flight: at most ~4 x 4 MiB buffered per upload. */
const BLOCK_SIZE = 4 * 1024 * 1024;
const MAX_CONCURRENCY = 4;

const pipelineOptions: StoragePipelineOptions = {
  // Fewer, quicker tries than the SDK default (4, up to 2 min): the worker has its own retries.
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
};

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number } | null)?.statusCode;
const hexOf = (md5: Uint8Array | undefined) => (md5 && md5.length === 16 ? Buffer.from(md5).toString('hex') : null);
const unquote = (etag: string | undefined): string | null => (etag ? etag.replace(/^"|"$/g, '') : null);

export class AzureDriver implements StorageDriver {
  readonly provider = 'azure' as const;
  readonly container: ContainerClient;
  /** STORAGE_KEY_PREFIX, normalized: every key must lie under it. */
  readonly keyPrefix: string;
  readonly #where: string;
  readonly #secrets: string[];
  #ready: Promise<void> | null = null;

  constructor(config: StorageConfig) {
    let service: BlobServiceClient;
    if (config.AZURE_STORAGE_CONNECTION_STRING) {
      service = azure().BlobServiceClient.fromConnectionString(config.AZURE_STORAGE_CONNECTION_STRING, pipelineOptions);
    } else if (config.AZURE_STORAGE_ACCOUNT_NAME && config.AZURE_STORAGE_ACCOUNT_KEY) {
      const account = config.AZURE_STORAGE_ACCOUNT_NAME;
      service = new (azure().BlobServiceClient)(
        `https://${account}.blob.core.windows.net`,
        new (azure().StorageSharedKeyCredential)(account, config.AZURE_STORAGE_ACCOUNT_KEY),
        pipelineOptions,
      );
    } else {
      throw new ConfigError(
        'Azure storage is not configured: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY',
      );
    }
    this.container = service.getContainerClient(config.AZURE_STORAGE_CONTAINER_NAME);
    this.keyPrefix = normalizeKeyPrefix(config.STORAGE_KEY_PREFIX);
    // service.url carries the SAS of a SAS connection string: name the place without its query.
    this.#where = `container ${config.AZURE_STORAGE_CONTAINER_NAME} at ${publicUrl(service.url)}`;
    this.#secrets = secretsOf(config);
  }

  /** A safe key under the prefix, or an InvalidKeyError before anything is sent. */
  #check(key: string): void {
    assertSafeKey(key);
    assertKeyInPrefix(key, this.keyPrefix);
  }

  /**
   * The SDK escapes names but then turns "%25" back into "%" (so callers may pass pre-encoded
   * names): a key holding "%20" would land as a space. Escaping "%" ourselves keeps keys exact.
   */
  #blob(key: string) {
    return this.container.getBlockBlobClient(key.replace(/%/g, '%25'));
  }

  /** Create the container once per driver; a failure is not remembered, so the next call tries again. */
  #ensureContainer(): Promise<void> {
    this.#ready ??= this.container.createIfNotExists().then(
      () => undefined,
      (err: unknown) => {
        this.#ready = null;
        throw err;
      },
    );
    return this.#ready;
  }

  async put(input: PutInput): Promise<PutResult> {
    this.#check(input.key);
    await this.#ensureContainer();
    const blob = this.#blob(input.key);
    const body: VerifiedBody = verifiedBody(input);
    const expectedMd5 = body.stream.expected.md5;
    try {
      // uploadStream stages blocks and commits the list only after the stream ENDS, which the verifier
      // allows only for the right bytes; an uncommitted block list never replaces the existing blob.
      // Azure does not check blobContentMD5 on a block-list commit: our verifier is the check.
      const bufferSize = input.size !== null ? Math.min(Math.max(input.size, 1), BLOCK_SIZE) : BLOCK_SIZE;
      if (input.size === 0) await body.drain();
      const out = await blob.uploadStream(input.size === 0 ? Readable.from([]) : body.stream, bufferSize, MAX_CONCURRENCY, {
        blobHTTPHeaders: {
          blobContentType: input.contentType,
          ...(expectedMd5 ? { blobContentMD5: Buffer.from(expectedMd5, 'hex') } : {}),
        },
        ...(expectedMd5 ? { metadata: { md5: expectedMd5 } } : {}),
        abortSignal: body.signal,
      });
      if (!body.stream.verified) throw new Error(`Azure committed ${input.key} before the whole body was verified`);
      const { md5, size } = body.stream.result;
      let etag = out.etag;
      if (!expectedMd5) {
        // No md5 from Drive: record the one we computed, so head() reports it.
        const headers = await blob.setHTTPHeaders({ blobContentType: input.contentType, blobContentMD5: Buffer.from(md5, 'hex') });
        const meta = await blob.setMetadata({ md5 });
        etag = meta.etag ?? headers.etag ?? etag;
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
      return objectInfo(key, await this.#blob(key).getProperties());
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable } | null> {
    this.#check(key);
    try {
      const d = range ? await this.#blob(key).download(range.start, range.end - range.start + 1) : await this.#blob(key).download(0);
      if (!d.readableStreamBody) throw new Error('Azure download returned no Node stream');
      const body = d.readableStreamBody instanceof Readable ? d.readableStreamBody : Readable.from(d.readableStreamBody);
      // BlobDownloadResponse exposes its fields as getters: pass them one by one (a spread drops them).
      const info = objectInfo(key, {
        contentLength: d.contentLength,
        contentType: d.contentType,
        metadata: d.metadata,
        contentMD5: d.blobContentMD5 ?? d.contentMD5,
        etag: d.etag,
        lastModified: d.lastModified,
      });
      // A ranged answer's contentLength is the range's: the blob's size is in contentRange.
      if (range) info.size = sizeFromContentRange(d.contentRange) ?? info.size;
      return { info, body };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key);
    const out = await this.#blob(key).deleteIfExists();
    return out.succeeded;
  }

  async readUrl(key: string, ttlSeconds?: number): Promise<string> {
    this.#check(key);
    const ttl = urlTtl(ttlSeconds);
    const blob = this.#blob(key);
    // With a SAS connection string there is no key to sign with, and the blob URL would hand out
    // the deployment's own SAS: refuse instead.
    if (!(blob.credential instanceof azure().StorageSharedKeyCredential)) {
      throw new StorageUsageError('Azure read URLs need an account key (AccountKey in the connection string, or AZURE_STORAGE_ACCOUNT_KEY)');
    }
    // Read-only SAS signed with the account key; starts a little in the past for clock skew.
    return blob.generateSasUrl({
      permissions: azure().BlobSASPermissions.parse('r'),
      startsOn: new Date(Date.now() - 5 * 60_000),
      expiresOn: new Date(Date.now() + ttl * 1000),
    });
  }

  async check(): Promise<void> {
    try {
      await this.#ensureContainer();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(redactSecrets(`azure store not reachable (${this.#where}): ${reason}`, this.#secrets), { cause: err });
    }
    await probe(this, this.keyPrefix, this.#where, this.#secrets);
  }

  async close(): Promise<void> {
    // The Azure SDK keeps no resources that need closing.
  }
}

/** What getProperties and download both answer about a blob. */
function objectInfo(
  key: string,
  p: { contentLength?: number; contentType?: string; metadata?: Record<string, string>; contentMD5?: Uint8Array; etag?: string; lastModified?: Date },
): ObjectInfo {
  return {
    key,
    size: p.contentLength ?? 0,
    contentType: p.contentType ?? null,
    md5: p.metadata?.md5 ?? hexOf(p.contentMD5),
    etag: unquote(p.etag),
    lastModified: p.lastModified ?? null,
  };
}
