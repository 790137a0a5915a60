/**
 * Applies the pending migrations of prisma/<provider>/migrations at start-up and records them in
 * `_prisma_migrations` exactly as Prisma does (same table, sha256 checksum of migration.sql, one
 * row per migration), so `prisma migrate deploy`/`migrate status` on a connected machine agree.
 * We cannot ship Prisma's native schema engine (it is downloaded from Prisma's host), hence this.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Logger } from '@drive-import/common';

export type Provider = 'sqlite' | 'sqlserver';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export const migrationsDir = (provider: Provider) => fileURLToPath(new URL(`../../prisma/${provider}/migrations/`, import.meta.url));

/** The migration folders in order (Prisma's names start with a UTC timestamp). */
export function readMigrations(provider: Provider, dir = migrationsDir(provider)): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Which migrations still need applying; refuses to go on over a failed one, as Prisma does (P3009). */
function pendingMigrations(migrations: Migration[], applied: AppliedRow[], log?: Logger): Migration[] {
  const failed = applied.filter((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed.length) {
    throw new Error(
      `Migration(s) ${failed.map((r) => r.migration_name).join(', ')} failed earlier and must be resolved first (prisma migrate resolve)`,
    );
  }
  const done = new Map(applied.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r.checksum]));
  for (const m of migrations) {
    const checksum = done.get(m.name);
    if (checksum !== undefined && checksum !== m.checksum) log?.warn({ migration: m.name }, 'migration was edited after it was applied');
  }
  return migrations.filter((m) => !done.has(m.name));
}

// Prisma's own DDL for the history table, per provider.
const SQLITE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const SQLSERVER_HISTORY_TABLE = `IF OBJECT_ID(N'[dbo].[_prisma_migrations]', N'U') IS NULL
CREATE TABLE [dbo].[_prisma_migrations] (
    [id]                    VARCHAR(36) PRIMARY KEY NOT NULL,
    [checksum]              VARCHAR(64) NOT NULL,
    [finished_at]           DATETIMEOFFSET,
    [migration_name]        NVARCHAR(250) NOT NULL,
    [logs]                  NVARCHAR(MAX) NULL,
    [rolled_back_at]        DATETIMEOFFSET,
    [started_at]            DATETIMEOFFSET NOT NULL DEFAULT CURRENT_TIMESTAMP,
    [applied_steps_count]   INT NOT NULL DEFAULT 0
)`;

/** Prisma's SQLite timestamps through the driver adapter: ISO 8601 with +00:00. */
const sqliteNow = () => new Date().toISOString().replace('Z', '+00:00');

/** The file path of a `file:` URL (relative paths are relative to the working directory, as for the adapter). */
export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '');
}

/**
 * Apply pending SQLite migrations, each in its own transaction. Prisma's table-rebuild migrations
 * turn foreign keys off with a PRAGMA, which does nothing inside a transaction: so they are turned
 * off here, outside it, and checked with `PRAGMA foreign_key_check` before the commit.
 * Also switches the file to WAL (persistent), which the service relies on for concurrent reads.
 */
export function migrateSqlite(databaseUrl: string, log?: Logger, dir?: string): string[] {
  const path = sqlitePath(databaseUrl);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: 10_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SQLITE_HISTORY_TABLE);
    const applied = db.prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"').all() as AppliedRow[];
    const pending = pendingMigrations(readMigrations('sqlite', dir), applied, log);
    const insert = db.prepare(
      'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)',
    );
    for (const m of pending) {
      const startedAt = sqliteNow();
      db.pragma('foreign_keys = OFF');
      try {
        db.exec('BEGIN');
        try {
          db.exec(m.sql);
          const violations = db.pragma('foreign_key_check') as unknown[];
          if (violations.length) throw new Error(`foreign key violations after ${m.name}: ${JSON.stringify(violations.slice(0, 5))}`);
          insert.run(randomUUID(), m.checksum, sqliteNow(), m.name, startedAt);
          db.exec('COMMIT');
        } catch (err) {
          db.exec('ROLLBACK');
          throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
      } finally {
        db.pragma('foreign_keys = ON');
      }
      log?.info({ migration: m.name }, 'migration applied');
    }
    return pending.map((m) => m.name);
  } finally {
    db.close();
  }
}

/** What the SQL Server migrator needs from a connection (a PrismaClient's raw methods fit). */
export interface SqlExecutor {
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>;
}

/**
 * Apply pending SQL Server migrations. Each migration.sql is one batch wrapped in its own
 * BEGIN TRY / BEGIN TRAN (Prisma's style), so it is sent whole; a failure is recorded as Prisma
 * records it (a row without finished_at) and stops start-up until resolved.
 */
export async function migrateSqlServer(db: SqlExecutor, log?: Logger, dir?: string): Promise<string[]> {
  await db.$executeRawUnsafe(SQLSERVER_HISTORY_TABLE);
  const applied = await db.$queryRawUnsafe<AppliedRow[]>(
    'SELECT [migration_name], [checksum], [finished_at], [rolled_back_at] FROM [dbo].[_prisma_migrations]',
  );
  const pending = pendingMigrations(readMigrations('sqlserver', dir), applied, log);
  for (const m of pending) {
    const id = randomUUID();
    await db.$executeRawUnsafe(
      'INSERT INTO [dbo].[_prisma_migrations] ([id], [checksum], [migration_name], [started_at], [applied_steps_count]) VALUES (@P1, @P2, @P3, SYSDATETIMEOFFSET(), 0)',
      id,
      m.checksum,
      m.name,
    );
    try {
      await db.$executeRawUnsafe(m.sql);
    } catch (err) {
      await db.$executeRawUnsafe('UPDATE [dbo].[_prisma_migrations] SET [logs] = @P1 WHERE [id] = @P2', String(err), id);
      throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
    }
    await db.$executeRawUnsafe(
      'UPDATE [dbo].[_prisma_migrations] SET [finished_at] = SYSDATETIMEOFFSET(), [applied_steps_count] = 1 WHERE [id] = @P1',
      id,
    );
    log?.info({ migration: m.name }, 'migration applied');
  }
  return pending.map((m) => m.name);
}
