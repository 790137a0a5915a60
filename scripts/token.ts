/**
 * API tokens of the gateway, in the metadata-service's database (DATABASE_URL, from the environment or .env):
 *   npm run token -- create <name> [--admin]   prints the new token once (only its sha256 is stored)
 *   npm run token -- list
 *   npm run token -- revoke <name>             the gateway refuses it within AUTH_CACHE_TTL_MS
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError, ConfigError, databaseEnv, loadConfig, TokenName, withLegacyDatabaseEnv } from '@drive-import/common';
import { createToken, listTokens, openDb, revokeToken } from '@drive-import/metadata-service';

const USAGE = 'usage: npm run token -- create <name> [--admin] | list | revoke <name>';

async function main(argv: string[]): Promise<number> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.chdir(root);
  if (existsSync('.env')) process.loadEnvFile('.env');
  const [command, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const [name, ...extra] = rest.filter((a) => !a.startsWith('--'));
  const unknown = [...flags].filter((f) => f !== '--admin' || command !== 'create');
  const needsName = command === 'create' || command === 'revoke';
  if (!['create', 'list', 'revoke'].includes(command ?? '') || unknown.length || extra.length || needsName !== (name !== undefined)) {
    console.error(USAGE);
    return 2;
  }
  if (name !== undefined) {
    const parsed = TokenName.safeParse(name);
    if (!parsed.success) {
      console.error(`token name: ${parsed.error.issues[0]?.message}`);
      return 2;
    }
  }
  const { DATABASE_URL } = loadConfig(databaseEnv, withLegacyDatabaseEnv(process.env));
  const db = await openDb(DATABASE_URL);
  try {
    if (command === 'create') {
      const created = await createToken(db, name!, flags.has('--admin'));
      console.log(`Created ${created.admin ? 'admin ' : ''}token "${created.name}". It is shown only now; keep it safe:\n\n  ${created.token}\n`);
      console.log(`Use it as: curl -H 'Authorization: Bearer ${created.token}' http://127.0.0.1:5000/api/import/jobs`);
    } else if (command === 'list') {
      const tokens = await listTokens(db);
      if (tokens.length === 0) console.log('No tokens yet (ADMIN_TOKEN from the environment is not listed).');
      for (const t of tokens) console.log(`${t.name}\t${t.admin ? 'admin' : 'user'}\tcreated ${t.created_at}\t${t.revoked_at ? `revoked ${t.revoked_at}` : 'active'}`);
    } else {
      const revoked = await revokeToken(db, name!);
      console.log(revoked ? `Revoked token "${name}".` : `Token "${name}" was already revoked.`);
    }
    return 0;
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
