/**
 * API tokens of the gateway: created, listed and revoked by `npm run token`, verified by the gateway
 * (POST /tokens/verify). A token is 32 random bytes shown once; only its sha256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { conflict, notFound, type TokenIdentity } from '@drive-import/common';
import type { Db } from './db.ts';

/** The name ADMIN_TOKEN (env) goes by: no stored token may take it. */
export const ENV_ADMIN_NAME = 'admin';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** `dit_` + 43 base64url characters: recognisable in a leak scan, 256 bits of randomness. */
export const newToken = () => `dit_${randomBytes(32).toString('base64url')}`;

/** Per-token quotas over all its jobs; null = none. */
export interface Quota {
  maxFiles: number | null;
  maxBytes: bigint | null;
}

export interface TokenRow {
  name: string;
  admin: boolean;
  max_files: number | null;
  max_bytes: string | null;
  created_at: string;
  revoked_at: string | null;
}

export async function createToken(db: Db, name: string, admin: boolean, quota: Quota = { maxFiles: null, maxBytes: null }): Promise<TokenIdentity & { token: string }> {
  if (name.toLowerCase() === ENV_ADMIN_NAME) throw conflict(`"${ENV_ADMIN_NAME}" is the name of ADMIN_TOKEN; pick another`, 'token_name_reserved');
  const token = newToken();
  await db.transaction(async (tx) => {
    // Names stay taken after a revoke: a job's owner always means the one token that started it.
    if (await tx.apiToken.findUnique({ where: { name } })) throw conflict(`a token named "${name}" exists (revoked ones keep their name)`, 'token_exists');
    await tx.apiToken.create({ data: { name, hash: hashToken(token), admin, maxFiles: quota.maxFiles, maxBytes: quota.maxBytes } });
  });
  return { name, admin, token };
}

export async function listTokens(db: Db): Promise<TokenRow[]> {
  const rows = await db.read.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
  return rows.map((r) => ({ name: r.name, admin: r.admin, max_files: r.maxFiles, max_bytes: r.maxBytes === null ? null : String(r.maxBytes), created_at: r.createdAt.toISOString(), revoked_at: r.revokedAt?.toISOString() ?? null }));
}

/** True when it was active; revoking twice is fine. */
export async function revokeToken(db: Db, name: string): Promise<boolean> {
  const row = await db.read.apiToken.findUnique({ where: { name } });
  if (!row) throw notFound(`no token named "${name}"`, 'token_not_found');
  if (row.revokedAt) return false;
  await db.transaction((tx) => tx.apiToken.update({ where: { name }, data: { revokedAt: new Date() } }));
  return true;
}

/** The active token with this hash, or 404. */
export async function verifyTokenHash(db: Db, hash: string): Promise<TokenIdentity> {
  const row = await db.read.apiToken.findUnique({ where: { hash } });
  if (!row || row.revokedAt) throw notFound('unknown or revoked token', 'token_unknown');
  return { name: row.name, admin: row.admin };
}

/** Set (or, with nulls, lift) a token's quotas. */
export async function setQuota(db: Db, name: string, quota: Quota): Promise<void> {
  const row = await db.read.apiToken.findUnique({ where: { name } });
  if (!row) throw notFound(`no token named "${name}"`, 'token_not_found');
  await db.transaction((tx) => tx.apiToken.update({ where: { name }, data: { maxFiles: quota.maxFiles, maxBytes: quota.maxBytes } }));
}
