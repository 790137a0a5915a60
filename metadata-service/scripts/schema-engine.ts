/**
 * Prisma's schema engine as WebAssembly (@prisma/schema-engine-wasm), driven without the native
 * `schema-engine` binary the Prisma CLI would download (these machines cannot). SQLite only: the
 * wasm engine has no SQL Server connector.
 *
 * Node 20 cannot `import` a .wasm file, so the module is instantiated by hand with the package's
 * JS glue as its import object, the way wasm-bindgen's bundler target expects.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';

export const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
export const EMPTY_MIGRATION = '-- This is an empty migration.';

// The tsconfig's lib (ES2023, no DOM) does not declare WebAssembly; this is the little we use of it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let started = false;

function startWasm(): void {
  if (started) return;
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const module = new wasm.Module(readFileSync(wasmPath));
  const instance = new wasm.Instance(module, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  started = true;
}

/**
 * An engine over an SQLite database (`file:<path>`, or `file::memory:` when only diffs between
 * schemas and migrations are needed: those run on the adapter's in-memory shadow database).
 * Free it with `engine.free()` and close the adapter connections with the returned `close()`.
 */
export async function openSchemaEngine(schema: string, url = 'file::memory:'): Promise<{ engine: SchemaEngine; explain(err: unknown): Error; close(): void }> {
  startWasm();
  const factory = new PrismaBetterSqlite3({ url });
  // Track the connections the engine opens so they can be closed: the engine only drops its handles.
  const opened: SqlDriverAdapter[] = [];
  // The engine sends a whole migration script through executeRaw, and better-sqlite3's prepare()
  // takes one statement only: scripts without parameters go through exec() instead.
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    opened.push(adapter);
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length === 0 && /;\s*\S/.test(query.sql)) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      return executeRaw(query);
    };
    return adapter;
  };
  const connect = factory.connect.bind(factory);
  const connectShadow = factory.connectToShadowDb.bind(factory);
  factory.connect = async () => track(await connect());
  factory.connectToShadowDb = async () => track(await connectShadow());
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  const engine = await glue.SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => {}, bound);
  return {
    engine,
    explain(err: unknown): Error {
      // The engine reports adapter failures as "External error id#N"; the registry holds the real one.
      const id = /External error id#(\d+)/.exec(String(err))?.[1];
      const cause = id === undefined ? undefined : bound.errorRegistry.consumeError(Number(id))?.error;
      return cause === undefined ? (err as Error) : new Error(`${String(err)}\ncaused by: ${String((cause as Error).message ?? cause)}`, { cause });
    },
    close() {
      engine.free();
      for (const adapter of opened) void adapter.dispose();
    },
  };
}

/** A migrations folder as the engine wants it (Prisma's layout: `<name>/migration.sql` + `migration_lock.toml`). */
export async function readMigrationList(dir: string): Promise<MigrationList> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(join(dir, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (err: unknown) => ({ tag: 'error' as const, value: String(err) }),
          ),
        },
      })),
    ),
  };
}

/** The SQL that takes the database described by the migrations to the schema ('' when they agree). */
export async function diffMigrationsToSchema(schema: string, migrationsDir: string): Promise<string> {
  const { engine, explain, close } = await openSchemaEngine(schema);
  try {
    const list = await readMigrationList(migrationsDir);
    const result = await engine.diff({
      from: list.migrationDirectories.length ? { tag: 'migrations', ...list } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    const sql = (result.stdout ?? '').trim();
    return sql === EMPTY_MIGRATION ? '' : sql;
  } catch (err) {
    throw explain(err);
  } finally {
    close();
  }
}
