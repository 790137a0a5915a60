/**
 * The database connection, chosen by DATABASE_URL: `file:<path>` -> SQLite through better-sqlite3,
 * `sqlserver://...` -> SQL Server through the mssql adapter. The two generated clients have the same
 * models and fields (the schemas are kept in step), so the code is written against the SQLite
 * client's types and the SQL Server client is used through them.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaMssql } from '@prisma/adapter-mssql';
import type { Logger } from '@drive-import/common';
import { PrismaClient, Prisma } from './generated/sqlite/client.ts';
import { PrismaClient as SqlServerPrismaClient } from './generated/sqlserver/client.ts';
import { migrateSqlite, migrateSqlServer, type Provider } from './migrate.ts';
import { Mutex } from './mutex.ts';

export { Prisma };
export type Client = PrismaClient;
export type Tx = Prisma.TransactionClient;

export interface Db {
  provider: Provider;
  /** For reads outside a transaction. On SQLite a second connection: WAL gives it committed data only, unblocked by writers. */
  read: Client;
  /** Run `fn` as one write transaction; write transactions run one at a time (see Mutex). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Most bind parameters in one Prisma query (Prisma's own limit: 999 on SQLite; SQL Server allows 2,100). */
  maxParams: number;
  /** Most bind parameters in one raw statement (SQLite as built by better-sqlite3 allows 32,766). */
  maxRawParams: number;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function providerOf(databaseUrl: string): Provider {
  if (databaseUrl.startsWith('file:')) return 'sqlite';
  if (databaseUrl.startsWith('sqlserver://')) return 'sqlserver';
  throw new Error('DATABASE_URL must be file:<path> (SQLite) or sqlserver://... (SQL Server)');
}

// Large listings: sealing 1,000 batches at listing-complete must not hit Prisma's 5 s default.
const TX_OPTIONS = { timeout: 120_000, maxWait: 120_000 };

async function sqliteClient(url: string): Promise<Client> {
  // timeout = busy_timeout: only the migrator or an operator's sqlite3 shell could hold the lock.
  const client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url, timeout: 10_000 }) });
  // WAL is persistent (set by the migrator); synchronous=NORMAL is the safe, fast setting for WAL.
  await client.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await client.$queryRawUnsafe('PRAGMA foreign_keys = ON');
  return client;
}

/** Open the database, applying pending migrations first. */
export async function openDb(databaseUrl: string, log?: Logger): Promise<Db> {
  const provider = providerOf(databaseUrl);
  const mutex = new Mutex();
  if (provider === 'sqlite') {
    migrateSqlite(databaseUrl, log);
    const write = await sqliteClient(databaseUrl);
    const read = await sqliteClient(databaseUrl);
    return {
      provider,
      read,
      maxParams: 999,
      maxRawParams: 30_000,
      transaction: (fn) => mutex.run(() => write.$transaction(fn, TX_OPTIONS)),
      ping: async () => {
        await read.$queryRawUnsafe('SELECT 1');
      },
      close: async () => {
        await Promise.all([write.$disconnect(), read.$disconnect()]);
      },
    };
  }
  const client = new SqlServerPrismaClient({ adapter: new PrismaMssql(databaseUrl) });
  await migrateSqlServer(client, log);
  // Same models and fields as the SQLite client (see the top of this file).
  const shared = client as unknown as Client;
  return {
    provider,
    read: shared,
    maxParams: 2_000,
    maxRawParams: 2_000,
    // SQL Server could run these concurrently, but they all touch the job row: queuing them here
    // avoids deadlocks between the one service process's own transactions.
    transaction: (fn) => mutex.run(() => shared.$transaction(fn, { ...TX_OPTIONS, isolationLevel: 'Serializable' })),
    ping: async () => {
      await client.$queryRawUnsafe('SELECT 1');
    },
    close: () => client.$disconnect(),
  };
}
