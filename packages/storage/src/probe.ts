import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageUsageError } from './errors.ts';
import { redactSecrets } from './redact.ts';
import { DEFAULT_URL_TTL_SECONDS, MAX_URL_TTL_SECONDS, type StorageDriver } from './types.ts';

/**
 * The health check every driver shares: write a small object through the real put path, then delete
 * it. The probe lives under the (normalized) key prefix like every other key; the message names the
 * store without its secrets.
 */
export async function probe(driver: StorageDriver, keyPrefix: string, where: string, secrets: readonly string[] = []): Promise<void> {
  const key = [...keyPrefix.split('/').filter(Boolean), `.probe-${randomUUID()}`].join('/');
  const bytes = Buffer.from(`drive-import storage probe ${new Date().toISOString()}\n`);
  try {
    await driver.put({
      key,
      body: Readable.from([bytes]),
      size: bytes.length,
      md5: createHash('md5').update(bytes).digest('hex'),
      contentType: 'text/plain',
    });
    await driver.delete(key);
  } catch (err) {
    const reason = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
    throw new Error(redactSecrets(`${driver.provider} store not writable (${where}): ${reason}`, secrets), { cause: err });
  }
}

export function urlTtl(ttlSeconds: number | undefined): number {
  const ttl = ttlSeconds ?? DEFAULT_URL_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_URL_TTL_SECONDS) {
    throw new StorageUsageError(`URL lifetime must be 1..${MAX_URL_TTL_SECONDS} seconds, got ${ttl}`);
  }
  return ttl;
}
