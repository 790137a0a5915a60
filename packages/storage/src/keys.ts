import { MAX_KEY_BYTES } from '@drive-import/common';
import { InvalidKeyError } from './errors.ts';

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
