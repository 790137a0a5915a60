/** The storage library: one StorageDriver interface over S3, Azure Blob and a local directory. */
import { AzureDriver } from './azure.ts';
import { LocalDriver } from './local.ts';
import { S3Driver } from './s3.ts';
import type { DriverOptions, StorageConfig, StorageDriver, StorageProvider } from './types.ts';

export * from './types.ts';
export * from './errors.ts';
export { contentRange, parseRangeHeader, resolveRange, type ByteRange, type RangeSpec } from './range.ts';
export { assertKeyInPrefix, assertSafeKey, encodeKeyPath, normalizeKeyPrefix } from './keys.ts';
export { readUrlSignature, urlSigningKey, verifyReadUrl, type ReadUrlVerdict } from './signing.ts';
export { publicUrl, redactSecrets, secretsOf } from './redact.ts';
export { VerifyingStream, verifiedBody, normalizeMd5, type Expected, type VerifiedBody } from './verify.ts';
export { S3Driver, S3_SINGLE_PUT_CUTOFF, s3ClientConfig } from './s3.ts';
export { AzureDriver } from './azure.ts';
export { LocalDriver, LOCAL_META_DIR, LOCAL_TMP_MAX_AGE_MS } from './local.ts';

/** Throws a ConfigError naming the missing settings (e.g. S3_BUCKET) when the provider is not configured. */
export function createStorageDriver(provider: StorageProvider, config: StorageConfig, options: DriverOptions = {}): StorageDriver {
  switch (provider) {
    case 's3':
      return new S3Driver(config);
    case 'azure':
      return new AzureDriver(config);
    case 'local':
      return new LocalDriver(config, options);
    default:
      throw new Error(`unknown storage provider ${String(provider satisfies never)}`);
  }
}
