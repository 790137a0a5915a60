import { MAX_KEY_BYTES, sanitizeSegment } from '@drive-import/common';
import { InvalidKeyError, KeyOutsidePrefixError } from './errors.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Every driver calls this before touching its store. objectKey() never produces any of these, so a
 * key that fails here came from somewhere else (a hand-made request) and could escape a directory.
 */
export function assertSafeKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'must not be empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'must not start with /');
  if (key.includes('..')) throw new InvalidKeyError(key, 'must not contain ..');
  if (CONTROL.test(key)) throw new InvalidKeyError(key, 'must not contain control characters');
  // A backslash is a separator on Windows disks; empty or "." segments collapse on a file system.
  if (key.includes('\\')) throw new InvalidKeyError(key, 'must not contain \\');
  if (key.split('/').some((s) => s === '' || s === '.')) throw new InvalidKeyError(key, 'must not have empty or "." segments');
}

/** `a/b c/d.jpg` -> `a/b%20c/d.jpg`: each segment encoded, slashes kept (for URLs and routes). */
export const encodeKeyPath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/**
 * STORAGE_KEY_PREFIX as keys carry it: segments without empty ones, each as objectKey() writes it
 * (`/imports/` -> `imports`). '' means the whole bucket, container or directory.
 */
export const normalizeKeyPrefix = (prefix: string) =>
  prefix
    .split('/')
    .filter(Boolean)
    .map((s) => sanitizeSegment(s))
    .join('/');

/**
 * Every driver calls this (after assertSafeKey) before touching its store: the key must lie UNDER the
 * normalized prefix, segment-wise (`drive-import/a.jpg` is inside `drive-import`, `drive-importX/a.jpg`
 * and `drive-import` itself are not). An empty prefix allows every key.
 */
export function assertKeyInPrefix(key: string, prefix: string): void {
  if (prefix === '') return;
  if (!key.startsWith(`${prefix}/`)) throw new KeyOutsidePrefixError(key, prefix);
}
