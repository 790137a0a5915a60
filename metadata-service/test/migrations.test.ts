/** Migrations: applied from scratch they make a working database, they equal the schema, Prisma agrees. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@drive-import/testing';
import Database from 'better-sqlite3';
import { migrateSqlite, migrationsDir, readMigrations } from '../src/migrate.ts';
import { diffMigrationsToSchema, NO_FILTERS, openSchemaEngine, readMigrationList } from '../scripts/schema-engine.ts';

const schemaPath = (provider: string) => fileURLToPath(new URL(`../../prisma/${provider}/schema.prisma`, import.meta.url));
const sqliteSchema = readFileSync(schemaPath('sqlite'), 'utf8');

/** Tables -> columns, and index names, of an SQLite file. */
function sqliteShape(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`).all() as Array<{ name: string }>).map((t) => t.name);
    const columns = new Map(tables.map((t) => [t, (db.prepare(`PRAGMA table_info("${t}")`).all() as Array<{ name: string }>).map((c) => c.name)]));
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'`).all() as Array<{ name: string }>).map((i) => i.name);
    return { columns, indexes };
  } finally {
    db.close();
  }
}

test('the SQLite migrations equal the schema (empty diff by Prisma\'s engine)', async () => {
  assert.equal(await diffMigrationsToSchema(sqliteSchema, migrationsDir('sqlite')), '');
});

test('a schema change the migrations lack is caught', async () => {
  const changed = sqliteSchema.replace('  etag            String?', '  etag            String?\n  contentType     String?');
  assert.notEqual(changed, sqliteSchema);
  assert.match(await diffMigrationsToSchema(changed, migrationsDir('sqlite')), /ALTER TABLE "files" ADD COLUMN "contentType" TEXT/);
});

test('migrations from scratch: a working database, recorded as Prisma records them, applied once', async () => {
  const dir = await tempDir('metadata-migrate');
  try {
    const file = join(dir.path, 'nested', 'fresh.db');
    const url = `file:${file}`;
    const names = readMigrations('sqlite').map((m) => m.name);
    assert.ok(names.length >= 1);
    assert.deepEqual(migrateSqlite(url), names);
    assert.deepEqual(migrateSqlite(url), [], 'nothing pending the second time');

    const db = new Database(file);
    const rows = db.prepare('SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations').all() as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => r.migration_name), names);
    assert.ok(rows.every((r) => r.finished_at && r.applied_steps_count === 1));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();

    // Prisma's engine, reading the same history table, finds it in sync and unedited.
    const { engine, close } = await openSchemaEngine(sqliteSchema, url);
    try {
      const diagnosis = await engine.diagnoseMigrationHistory({
        migrationsList: await readMigrationList(migrationsDir('sqlite')),
        optInToShadowDatabase: false,
        filters: NO_FILTERS,
      });
      assert.equal(diagnosis.history, null);
      assert.deepEqual(diagnosis.failedMigrationNames, []);
      assert.deepEqual(diagnosis.editedMigrationNames, []);
      assert.equal(diagnosis.hasMigrationsTable, true);
      // And the live database equals the schema.
      const live = await engine.diff({
        from: { tag: 'schemaDatasource', files: [{ path: 'schema.prisma', content: sqliteSchema }], configDir: dir.path },
        to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: sqliteSchema }] },
        script: true,
        exitCode: null,
        filters: NO_FILTERS,
      });
      assert.equal((live.stdout ?? '').trim(), '-- This is an empty migration.');
    } finally {
      close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('a database migrated by Prisma\'s engine is up to date for our migrator', async () => {
  const dir = await tempDir('metadata-migrate');
  try {
    const url = `file:${join(dir.path, 'prisma.db')}`;
    const { engine, close } = await openSchemaEngine(sqliteSchema, url);
    try {
      const applied = await engine.applyMigrations({ migrationsList: await readMigrationList(migrationsDir('sqlite')), filters: NO_FILTERS });
      assert.deepEqual(applied.appliedMigrationNames, readMigrations('sqlite').map((m) => m.name));
    } finally {
      close();
    }
    assert.deepEqual(migrateSqlite(url), []);
  } finally {
    await dir.cleanup();
  }
});

test('the SQL Server migration exists in Prisma\'s layout and names every table, column and index', async () => {
  const dir = await tempDir('metadata-migrate');
  try {
    const file = join(dir.path, 'shape.db');
    migrateSqlite(`file:${file}`);
    const { columns, indexes } = sqliteShape(file);

    const lock = readFileSync(join(migrationsDir('sqlserver'), 'migration_lock.toml'), 'utf8');
    assert.match(lock, /provider = "sqlserver"/);
    const sql = readMigrations('sqlserver').map((m) => m.sql).join('\n');
    assert.deepEqual(readMigrations('sqlserver').map((m) => m.name), readMigrations('sqlite').map((m) => m.name), 'same migration names per provider');
    const created = new Map<string, string[]>();
    for (const [, table, body] of sql.matchAll(/CREATE TABLE \[dbo\]\.\[(\w+)\] \(\n([\s\S]*?)\n\);/g)) {
      created.set(table!, [...body!.matchAll(/^ {4}\[(\w+)\] /gm)].map((m) => m[1]!));
    }
    // Columns added by later migrations (Prisma's SQL Server form: ALTER TABLE ... ADD [column] TYPE).
    for (const [, table, column] of sql.matchAll(/^ALTER TABLE \[dbo\]\.\[(\w+)\] ADD \[(\w+)\] /gm)) created.get(table!)?.push(column!);
    assert.deepEqual(new Map([...created].sort()), new Map([...columns].sort()));
    for (const index of indexes) assert.match(sql, new RegExp(`\\[${index}\\]`), `index ${index}`);
    assert.match(sql, /^BEGIN TRY/);
    assert.match(sql, /COMMIT TRAN;/);
    assert.doesNotMatch(sql, /NVARCHAR\(1000\)/, 'no string left at Prisma\'s default size');
  } finally {
    await dir.cleanup();
  }
});
