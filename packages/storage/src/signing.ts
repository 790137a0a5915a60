/**
 * Signed local read URLs, like an S3 presigned GET: `<base>/objects/<key>?expires=<unix s>&signature=<hex>`,
 * the signature an HMAC-SHA256 over `GET\n<key>\n<expires>` with a key derived from INTERNAL_TOKEN
 * (so the token itself never signs anything a client sees). The storage-service checks them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_URL_TTL_SECONDS } from './types.ts';

/** The signing key for a secret (INTERNAL_TOKEN): an HMAC of a fixed label, so it is good for nothing else. */
export const urlSigningKey = (secret: string): Buffer => createHmac('sha256', secret).update('drive-import local read URL signing v1').digest();

/** Hex HMAC-SHA256 over `GET\n<key>\n<expires>`; `key` is the decoded object key. */
export const readUrlSignature = (signingKey: Buffer, key: string, expires: number): string =>
  createHmac('sha256', signingKey).update(`GET\n${key}\n${expires}`).digest('hex');

export type ReadUrlVerdict = 'ok' | 'invalid' | 'expired';

const EXPIRES = /^\d{1,12}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Check a signed read URL's `expires` and `signature` for `key`: 'ok', 'expired' (a genuine
 * signature whose time is up) or 'invalid' (missing, malformed or wrong). Constant-time compare.
 */
export function verifyReadUrl(
  signingKey: Buffer,
  key: string,
  expires: string | undefined,
  signature: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): ReadUrlVerdict {
  if (expires === undefined || signature === undefined || !EXPIRES.test(expires) || !SIGNATURE.test(signature)) return 'invalid';
  const at = Number(expires);
  const expected = Buffer.from(readUrlSignature(signingKey, key, at), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'invalid';
  // Only a genuine signature learns that it expired; one from the far future was never ours to give.
  if (at > nowSeconds + MAX_URL_TTL_SECONDS + 60) return 'invalid';
  return at >= nowSeconds ? 'ok' : 'expired';
}
