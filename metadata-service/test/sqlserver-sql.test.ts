/**
 * The hand-written T-SQL, checked without a SQL Server (none runs here):
 * - the raw statements the service sends on SQL Server stay within SQL Server's 2,100 bind
 *   parameters at every BATCH_SIZE up to 1,000. They are the real statements: the SQL Server code
 *   paths (files.ts, batches.ts) run against a SQLite file, whose SQL they also speak, through a Db
 *   that says `sqlserver` and refuses a statement over 2,100 parameters as SQL Server does;
 * - every such statement, and the SQL Server migrations and the migrator's own statements, parse
 *   with node-sql-parser's T-SQL (`transactsql`) grammar.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { BatchResultsRequest, type FileResult } from '@drive-import/common';
import { tempDir } from '@drive-import/testing';
import Database from 'better-sqlite3';
import NodeSqlParser from 'node-sql-parser';
import { completeListing, getBatch, OUTCOME_UPDATE_PARAMS, outcomeChunkSize, recordResults } from '../src/batches.ts';
import { type Client, type Db, openDb, Prisma, type Tx } from '../src/db.ts';
import { addFiles } from '../src/files.ts';
import { createJob, getJob } from '../src/jobs.ts';
import { migrateSqlite, migrateSqlServer, migrationsDir, readMigrations, type SqlExecutor } from '../src/migrate.ts';
import { FOLDER_ID, listedFile } from './support.ts';

/** SQL Server's limit on parameters in one request. */
const SQLSERVER_MAX_PARAMS = 2100;
const parser = new NodeSqlParser.Parser();
const TSQL = { database: 'transactsql' };

/** The statement as SQL Server's driver gets it: @P1, @P2, ... for the bind parameters. */
const render = (sql: Prisma.Sql) => sql.strings.reduce((text, part, i) => `${text}@P${i}${part}`);

/** Parses with the T-SQL grammar or fails naming the statement. */
function parseTsql(sql: string, what: string) {
  try {
    return parser.astify(sql, TSQL);
  } catch (err) {
    assert.fail(`${what} does not parse as T-SQL: ${(err as Error).message.slice(0, 300)}\n${sql.slice(0, 2000)}`);
  }
}

const RAW = new Set(['$executeRaw', '$queryRaw']);

/**
 * A client whose raw statements are recorded and refused past SQL Server's parameter limit, with
 * SQL Server's own message; everything else goes to the SQLite client underneath.
 */
function recording<T extends object>(client: T, sent: Prisma.Sql[]): T {
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !RAW.has(prop)) return value.bind(target);
      return (first: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
        const sql = first instanceof Prisma.Sql ? first : Prisma.sql(first, ...(values as Prisma.Sql[]));
        sent.push(sql);
        if (sql.values.length > SQLSERVER_MAX_PARAMS) {
          return Promise.reject(
            new Error(`The incoming request has too many parameters (${sql.values.length}). The server supports a maximum of ${SQLSERVER_MAX_PARAMS} parameters.`),
          );
        }
        return (value as (q: Prisma.Sql) => Promise<unknown>).call(target, sql);
      };
    },
  });
}

/** The SQLite db taking the SQL Server code paths, with SQL Server's limits (see db.ts). */
function asSqlServer(db: Db, sent: Prisma.Sql[]): Db {
  return {
    ...db,
    provider: 'sqlserver',
    maxParams: 2_000,
    maxRawParams: 2_000,
    read: recording<Client>(db.read, sent),
    transaction: (fn) => db.transaction((tx) => fn(recording<Tx>(tx, sent))),
  };
}

describe('SQL Server raw statements (the SQL Server code paths, run on SQLite)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let sqlite: Db;
  let db: Db;
  const sent: Prisma.Sql[] = [];
  let nextFile = 0;
  before(async () => {
    dir = await tempDir('metadata-sqlserver-sql');
    sqlite = await openDb(`file:${join(dir.path, 'sqlserver-paths.db')}`);
    db = asSqlServer(sqlite, sent);
  });
  after(async () => {
    await sqlite?.close();
    await dir?.cleanup();
  });

  it('the outcome UPDATE is sized from what it binds: 2 per column per file, 1 per file in the IN list, 1 once', () => {
    assert.deepEqual(OUTCOME_UPDATE_PARAMS, { perRow: 21, fixed: 1 });
    const size = outcomeChunkSize(2_000);
    assert.ok(size * OUTCOME_UPDATE_PARAMS.perRow + OUTCOME_UPDATE_PARAMS.fixed <= 2_000);
    assert.ok((size + 1) * OUTCOME_UPDATE_PARAMS.perRow + OUTCOME_UPDATE_PARAMS.fixed > 2_000, 'as many as fit');
  });

  // 139 files were the most the old count (14 per file) let through; 140 passed 2,100.
  for (const batchSize of [1, 139, 140, 500, 1000]) {
    it(`BATCH_SIZE ${batchSize}: a full batch is listed, copied and recorded; no statement binds more than maxRawParams`, async () => {
      const from = sent.length;
      const job = await createJob(db, { folder_id: FOLDER_ID, folder_name: 'Photos', resource_key: null, destination: 's3', batch_size: batchSize, owner: null, callback_url: null });
      const files = Array.from({ length: batchSize }, () => listedFile(++nextFile));
      const added = await addFiles(db, job.job_id, { files });
      assert.equal(added.inserted, batchSize);
      assert.equal(added.sealed.length, 1);
      // Listed again: every file is found already there (the IN-list lookup), nothing is added twice.
      assert.equal((await addFiles(db, job.job_id, { files })).inserted, 0);
      await completeListing(db, job.job_id);

      const batch = await getBatch(db, added.sealed[0]!);
      assert.equal(batch.files.length, batchSize);
      const results: FileResult[] = batch.files.map((f, i) =>
        i % 10 === 9
          ? { drive_id: f.drive_id, status: 'failed', bytes: null, md5: null, etag: null, error: `copy failed: ${'x'.repeat(3900)}`, attempts: 3 }
          : { drive_id: f.drive_id, status: 'stored', bytes: f.size, md5: f.md5, etag: `etag-${f.drive_id}`, error: null, attempts: 1, thumbnail_key: i % 2 ? `t/thumbs/${f.drive_id}.webp` : null },
      );
      const summary = await recordResults(db, batch.batch_id, BatchResultsRequest.parse({ job_id: job.job_id, results }));
      const failed = results.filter((r) => r.status === 'failed').length;
      assert.equal(summary.processed, batchSize - failed);
      assert.equal(summary.failed, failed);
      assert.equal(summary.status, failed ? 'completed_with_errors' : 'completed');

      // What the CASE statements wrote, read back through Prisma.
      const rows = await sqlite.read.file.findMany({ where: { jobId: job.job_id }, orderBy: { id: 'asc' } });
      assert.equal(rows.length, batchSize);
      for (const [i, row] of rows.entries()) {
        const result = results[i]!;
        assert.equal(row.status, result.status);
        assert.equal(row.attempts, result.attempts);
        assert.equal(row.etag, result.etag);
        assert.equal(row.storageProvider, result.status === 'stored' ? 's3' : null);
        assert.equal(row.md5, files[i]!.md5, 'md5 kept');
        assert.equal(row.thumbnailKey, result.thumbnail_key ?? null);
        assert.equal(row.error === null ? null : row.error.slice(0, 20), result.error?.slice(0, 20) ?? null);
      }
      assert.equal((await getJob(db, job.job_id)).status, summary.status);

      const mine = sent.slice(from);
      const most = mine.reduce((m, s) => Math.max(m, s.values.length), -Infinity);
      assert.ok(most <= db.maxRawParams, `a statement bound ${most} parameters (maxRawParams ${db.maxRawParams})`);
      if (batchSize >= 140) assert.ok(most > 1_000, `the big statements ran (largest bound ${most})`);
    });
  }

  it('every raw statement sent parses as T-SQL (with @P parameters)', () => {
    assert.ok(sent.length > 10, `${sent.length} statements recorded`);
    const kinds = new Set<string>();
    const seen = new Set<string>();
    for (const sql of sent) {
      const text = render(sql);
      if (seen.has(text)) continue;
      seen.add(text);
      const ast = parseTsql(text, 'a raw statement');
      for (const a of Array.isArray(ast) ? ast : [ast]) kinds.add(a.type);
    }
    // SELECT (the pending files, the IN-list lookups), INSERT (files), UPDATE (outcomes).
    assert.deepEqual([...kinds].sort(), ['insert', 'select', 'update']);
  });
});

// The grammar is lenient in places (it takes LIMIT, or a trailing comma in CREATE TABLE), but it
// refuses SQLite's own syntax and broken statements.
test('the T-SQL grammar is a real check: SQLite-only or broken SQL fails it', () => {
  for (const bad of [
    `UPDATE "files" SET "status" = j.value->>1 FROM json_each(@P1) AS j WHERE "files"."id" = j.value->>0`,
    `INSERT INTO "files" ("id") VALUES (@P1) ON CONFLICT DO NOTHING`,
    `INSERT INTO "files" ("id") VALUES (@P1) RETURNING "id"`,
    `UPDATE "files" SET "status" = CASE "id" WHEN @P1 THEN @P2 WHERE "status" = 'pending'`,
    `INSERT INTO "files" ("a", "b") VALUES (@P1, @P2) (@P3, @P4)`,
  ]) {
    assert.throws(() => parser.astify(bad, TSQL), Error, bad);
  }
});

/**
 * Prisma's SQL Server migration.sql: ONE batch, its statements wrapped in BEGIN TRY / BEGIN TRAN ...
 * COMMIT TRAN / END TRY and a BEGIN CATCH that rolls back and rethrows. node-sql-parser's T-SQL
 * grammar has no TRY/CATCH, IF ... BEGIN ... END or THROW, so the wrapper is stripped here; it is
 * checked instead to be exactly Prisma's (any other text there fails the test).
 */
const PRISMA_WRAPPER =
  /^BEGIN TRY\s+BEGIN TRAN;\s+([\s\S]*?)\s+COMMIT TRAN;\s+END TRY\s+BEGIN CATCH\s+IF @@TRANCOUNT > 0\s+BEGIN\s+ROLLBACK TRAN;\s+END;\s+THROW\s+END CATCH\s*$/;

/**
 * Two constructs of Prisma's migrations that node-sql-parser 5.4's T-SQL grammar cannot read, each
 * rewritten to the nearest form it reads (so everything around them is still parsed), and only
 * after checking that the construct has exactly the shape Prisma writes:
 * 1. A named DEFAULT constraint on a column, `[col] INT NOT NULL CONSTRAINT [t_col_df] DEFAULT 0`:
 *    the grammar allows only CHECK after a column's CONSTRAINT name. The name is dropped; the
 *    DEFAULT and its value are parsed.
 * 2. `REFERENCES [dbo].[table]([column])`: the grammar reads `[dbo].[table]([column])` as a call of
 *    a table-valued function and then wants the column list again (`REFERENCES t (c)` fails in every
 *    spelling). The column list is given twice; the AST is checked to reference the right table
 *    and column.
 */
const NAMED_DEFAULT = /\bCONSTRAINT \[(\w+)\] DEFAULT\b/g;
const REFERENCES = /\bREFERENCES (\[dbo\]\.\[\w+\])(\(\[\w+\](?:, ?\[\w+\])*\))/g;

/** The statements of a migration body: they end with `;` at the end of a line (no `;` inside a literal in Prisma's DDL). */
const statementsOf = (body: string) =>
  body
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);

interface ParsedMigration {
  name: string;
  statements: Array<{ sql: string; ast: unknown }>;
}

function parseSqlServerMigrations(): ParsedMigration[] {
  return readMigrations('sqlserver').map((m) => {
    const wrapped = PRISMA_WRAPPER.exec(m.sql);
    assert.ok(wrapped, `${m.name}: not in Prisma's BEGIN TRY / BEGIN TRAN ... END CATCH wrapper`);
    const statements = statementsOf(wrapped[1]!).map((original, i) => {
      for (const [, name] of original.matchAll(NAMED_DEFAULT)) assert.match(name!, /_df$/, `${m.name}: default constraint ${name} is named as Prisma names them`);
      const references = original.match(/\bREFERENCES\b/g)?.length ?? 0;
      assert.equal([...original.matchAll(REFERENCES)].length, references, `${m.name}: a REFERENCES clause not in Prisma's shape: ${original}`);
      const sql = original.replace(NAMED_DEFAULT, 'DEFAULT').replace(REFERENCES, 'REFERENCES $1$2 $2');
      return { sql: original, ast: parseTsql(sql, `${m.name} statement ${i + 1}`) };
    });
    return { name: m.name, statements };
  });
}

test('every SQL Server migration parses as T-SQL, statement by statement (wrapper and two constructs handled as documented)', () => {
  const migrations = parseSqlServerMigrations();
  assert.deepEqual(
    migrations.map((m) => m.name),
    readdirSync(migrationsDir('sqlserver'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort(),
  );
  // None missed by the split: Prisma heads each step with a comment (-- CreateTable, -- AddForeignKey, ...).
  for (const m of readMigrations('sqlserver')) {
    const steps = m.sql.match(/^-- [A-Z]\w+$/gm)?.length ?? 0;
    assert.ok(steps >= 1, `${m.name} has steps`);
    assert.equal(migrations.find((p) => p.name === m.name)!.statements.length, steps, `${m.name}: one statement per step`);
  }
});

test('the foreign keys, as parsed, reference the tables and columns the migrations name', () => {
  const fks: string[] = [];
  for (const m of parseSqlServerMigrations()) {
    for (const { sql, ast } of m.statements) {
      if (!/FOREIGN KEY/.test(sql)) continue;
      const text = JSON.stringify(ast);
      const [, table, column] = /REFERENCES \[dbo\]\.\[(\w+)\]\(\[(\w+)\]\)/.exec(sql)!;
      assert.ok(text.includes(`"${table}"`) && text.includes(`"${column}"`), `${sql}\n${text.slice(0, 500)}`);
      fks.push(`${table}.${column}`);
    }
  }
  assert.deepEqual(fks.sort(), ['batches.id', 'import_jobs.id', 'import_jobs.id', 'import_jobs.id']);
});

test('the parsed SQL Server migrations create the same tables and columns as the SQLite ones', async () => {
  /** The parts of node-sql-parser's CREATE TABLE / ALTER TABLE AST read here. */
  interface Definition {
    resource: string;
    action?: string;
    column?: unknown;
  }
  interface TableAst {
    type: string;
    keyword?: string;
    table: Array<{ table: string }>;
    create_definitions?: Definition[];
    expr?: Definition[];
  }
  const name = (v: unknown): string => {
    const c = v as { column?: unknown; expr?: { value?: string } };
    if (typeof c.column === 'string') return c.column;
    if (c.column && typeof c.column === 'object') return name(c.column);
    return String(c.expr?.value);
  };
  const fromTsql = new Map<string, string[]>();
  for (const m of parseSqlServerMigrations()) {
    for (const { ast } of m.statements) {
      for (const a of (Array.isArray(ast) ? ast : [ast]) as TableAst[]) {
        const table = a.table?.[0]?.table ?? '';
        if (a.type === 'create' && a.keyword === 'table') {
          fromTsql.set(table, (a.create_definitions ?? []).filter((d) => d.resource === 'column').map((d) => name(d.column)));
        }
        if (a.type === 'alter') {
          for (const e of a.expr ?? []) if (e.action === 'add' && e.resource === 'column') fromTsql.get(table)?.push(name(e.column));
        }
      }
    }
  }
  const dir = await tempDir('metadata-sqlserver-shape');
  try {
    const file = join(dir.path, 'shape.db');
    migrateSqlite(`file:${file}`);
    const sqliteDb = new Database(file, { readonly: true });
    const tables = (sqliteDb.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`).all() as Array<{ name: string }>).map((t) => t.name);
    const fromSqlite = new Map(tables.map((t) => [t, (sqliteDb.prepare(`PRAGMA table_info("${t}")`).all() as Array<{ name: string }>).map((c) => c.name)]));
    sqliteDb.close();
    assert.deepEqual(new Map([...fromTsql].sort()), new Map([...fromSqlite].sort()));
  } finally {
    await dir.cleanup();
  }
});

test("the migrator's own SQL Server statements parse as T-SQL", async () => {
  const sent: string[] = [];
  const migrationSql = new Set(readMigrations('sqlserver').map((m) => m.sql));
  const executor = (failOnMigration: boolean): SqlExecutor => ({
    async $executeRawUnsafe(sql: string) {
      sent.push(sql);
      if (failOnMigration && migrationSql.has(sql)) throw new Error('migration failed');
      return 0;
    },
    async $queryRawUnsafe<T>(sql: string) {
      sent.push(sql);
      return [] as T;
    },
  });
  await migrateSqlServer(executor(false));
  // A failing migration: its error is recorded with one more statement.
  await assert.rejects(migrateSqlServer(executor(true)), /migration failed/);
  const own = [...new Set(sent.filter((s) => !migrationSql.has(s)))];
  // The history table, reading it, the start row, the finish row, the failure's log.
  assert.equal(own.length, 5, own.join('\n---\n'));
  for (const sql of own) parseTsql(sql, "the migrator's statement");
  for (const sql of migrationSql) assert.ok(sent.includes(sql), 'each migration.sql is sent whole');
  assert.ok(readFileSync(join(migrationsDir('sqlserver'), 'migration_lock.toml'), 'utf8').includes('sqlserver'));
});
