/**
 * API tokens of the gateway, in the metadata-service's database (DATABASE_URL, from the environment or .env):
 *   npm run token -- create <name> [--admin] [--max-files N] [--max-bytes N]   prints the new token once (only its sha256 is stored)
 *   npm run token -- list
 *   npm run token -- quota <name> [--max-files N|none] [--max-bytes N|none]     quotas over all the token's jobs
 *   npm run token -- revoke <name>                                             the gateway refuses it within AUTH_CACHE_TTL_MS
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AppError, ConfigError, databaseEnv, loadConfig, TokenName, withLegacyDatabaseEnv } from '@drive-import/common';
import { createToken, listTokens, openDb, type Quota, revokeToken, setQuota } from '@drive-import/metadata-service';

const USAGE =
  'usage: npm run token -- create <name> [--admin] [--max-files N] [--max-bytes N] | list | quota <name> [--max-files N|none] [--max-bytes N|none] | revoke <name>';

class UsageError extends Error {}

/** A quota flag: a whole number, `none` (no quota), or absent (unchanged / none). */
function quotaValue(flag: string, raw: string | undefined, current: number | bigint | null): number | bigint | null {
  if (raw === undefined) return current;
  if (raw === 'none') return null;
  if (!/^\d{1,18}$/.test(raw)) throw new UsageError(`${flag} must be a whole number or none`);
  return flag === '--max-bytes' ? BigInt(raw) : Number(raw);
}

async function main(argv: string[]): Promise<number> {
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  if (existsSync('.env')) process.loadEnvFile('.env');
  const options = { admin: { type: 'boolean' }, 'max-files': { type: 'string' }, 'max-bytes': { type: 'string' } } as const;
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, name, ...extra] = parsed.positionals;
  const { admin, 'max-files': maxFiles, 'max-bytes': maxBytes } = parsed.values;
  const needsName = command === 'create' || command === 'revoke' || command === 'quota';
  // --admin only at creation; quotas at creation or with `quota`; list and revoke take no flag.
  const flagsFit = command === 'create' || (!admin && (command === 'quota' || (maxFiles === undefined && maxBytes === undefined)));
  if (!['create', 'list', 'revoke', 'quota'].includes(command ?? '') || extra.length || needsName !== (name !== undefined) || !flagsFit) {
    console.error(USAGE);
    return 2;
  }
  if (name !== undefined) {
    const valid = TokenName.safeParse(name);
    if (!valid.success) {
      console.error(`token name: ${valid.error.issues[0]?.message}`);
      return 2;
    }
  }
  const { DATABASE_URL } = loadConfig(databaseEnv, withLegacyDatabaseEnv(process.env));
  const db = await openDb(DATABASE_URL);
  try {
    if (command === 'create') {
      const quota: Quota = { maxFiles: quotaValue('--max-files', maxFiles, null) as number | null, maxBytes: quotaValue('--max-bytes', maxBytes, null) as bigint | null };
      const created = await createToken(db, name!, Boolean(admin), quota);
      console.log(`Created ${created.admin ? 'admin ' : ''}token "${created.name}". It is shown only now; keep it safe:\n\n  ${created.token}\n`);
      console.log(`Use it as: curl -H 'Authorization: Bearer ${created.token}' http://127.0.0.1:5000/api/import/jobs`);
    } else if (command === 'list') {
      const tokens = await listTokens(db);
      if (tokens.length === 0) console.log('No tokens yet (ADMIN_TOKEN from the environment is not listed).');
      for (const t of tokens) {
        const quota = t.max_files === null && t.max_bytes === null ? 'no quota' : `quota ${t.max_files ?? '-'} files, ${t.max_bytes ?? '-'} bytes`;
        console.log(`${t.name}\t${t.admin ? 'admin' : 'user'}\t${quota}\tcreated ${t.created_at}\t${t.revoked_at ? `revoked ${t.revoked_at}` : 'active'}`);
      }
    } else if (command === 'quota') {
      const row = (await listTokens(db)).find((t) => t.name === name);
      if (!row) throw new AppError(404, 'token_not_found', `no token named "${name}"`);
      const quota: Quota = {
        maxFiles: quotaValue('--max-files', maxFiles, row.max_files) as number | null,
        maxBytes: quotaValue('--max-bytes', maxBytes, row.max_bytes === null ? null : BigInt(row.max_bytes)) as bigint | null,
      };
      await setQuota(db, name!, quota);
      console.log(`Token "${name}": quota ${quota.maxFiles ?? 'none'} files, ${quota.maxBytes ?? 'none'} bytes.`);
    } else {
      const revoked = await revokeToken(db, name!);
      console.log(revoked ? `Revoked token "${name}".` : `Token "${name}" was already revoked.`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof AppError || err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
