// Prisma 7 CLI config for the sqlserver schema: `prisma generate --config prisma/sqlserver/prisma.config.ts`
// (run by npm install's postinstall) and, on a machine that can fetch Prisma's engines,
// `DATABASE_URL=... prisma migrate deploy --config prisma/sqlserver/prisma.config.ts`.
// The URL is optional so that generating the client needs no database.
import { defineConfig } from 'prisma/config';

const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  ...(url ? { datasource: { url } } : {}),
});
