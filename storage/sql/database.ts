/**
 * Opens the SQL database behind a Kysely instance: better-sqlite3 for the embedded default, a
 * mysql2 pool at scale. Callers see the same typed query builder either way.
 *
 * SQLite is opened with one connection per process: better-sqlite3 is synchronous, so a second
 * connection in the same thread waiting on a lock would block the event loop that the first
 * needs to finish its transaction. Other processes may share the file (WAL + busy timeout).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, MysqlDialect, SqliteDialect, sql } from 'kysely';
import { parseSqlUrl, redactSqlUrl } from './url.js';
import type { VigilSchema } from './schema.js';
import type { SqlDialect } from './migrations/index.js';

export interface SqlDatabase {
  readonly db: Kysely<VigilSchema>;
  readonly dialect: SqlDialect;
  /** The URL with its password redacted. */
  readonly description: string;
  close(): Promise<void>;
}

export interface OpenSqlOptions {
  readonly maxConnections?: number;
  /** How long a SQLite writer waits for another process's lock before failing. */
  readonly busyTimeoutMs?: number;
}

export class SqlConnectError extends Error {
  constructor(description: string, cause: unknown) {
    super(`cannot open database ${description}: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'SqlConnectError';
  }
}

export async function openSqlDatabase(url: string, opts: OpenSqlOptions = {}): Promise<SqlDatabase> {
  const target = parseSqlUrl(url);
  const description = redactSqlUrl(url);
  if (target.kind === 'sqlite') {
    let handle: BetterSqlite3.Database;
    try {
      if (target.path !== ':memory:') mkdirSync(path.dirname(path.resolve(target.path)), { recursive: true });
      handle = new BetterSqlite3(target.path);
      if (target.path !== ':memory:') handle.pragma('journal_mode = WAL');
      handle.pragma('synchronous = NORMAL');
      handle.pragma('foreign_keys = ON');
      handle.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    } catch (err) {
      throw new SqlConnectError(description, err);
    }
    const db = new Kysely<VigilSchema>({ dialect: new SqliteDialect({ database: handle }) });
    return {
      db,
      dialect: 'sqlite',
      description,
      close: async () => {
        await db.destroy();
      },
    };
  }
  // Loaded only for MySQL: mysql2 is ~3 MiB of heap that the SQLite default never uses.
  const { createPool } = await import('mysql2');
  const pool = createPool({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionLimit: opts.maxConnections ?? 10,
    timezone: 'Z',
    supportBigNumbers: true,
    decimalNumbers: true,
    charset: 'utf8mb4',
    connectTimeout: 10_000,
  });
  const db = new Kysely<VigilSchema>({ dialect: new MysqlDialect({ pool }) });
  try {
    await sql`SELECT 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new SqlConnectError(description, err);
  }
  return {
    db,
    dialect: 'mysql',
    description,
    close: async () => {
      await db.destroy();
    },
  };
}
