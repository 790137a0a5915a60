/** Secrets `npm start` makes once and keeps under .data/ (mode 0600), so a restart keeps them. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** A random secret: 32 bytes, hex (64 printable characters). */
export const randomSecret = () => randomBytes(32).toString('hex');

/** The secret kept in `path`, made (with `make`) and written there first if the file does not exist. */
export function readOrCreateSecret(path: string, make: () => string = randomSecret): { value: string; created: boolean } {
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}
