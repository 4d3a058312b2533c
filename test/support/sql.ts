/**
 * A look into the gateway's tables for tests, on either engine: SQLite's file through the store's own
 * connection, PostgreSQL's database through its pool. Statements use `?` placeholders (numbered for
 * PostgreSQL here) and SQL both engines speak; what only one can answer (SQLite's file bytes, json_extract)
 * stays in the SQLite-only tests (README: what runs on PostgreSQL). Edits of append-only tables need their
 * triggers off: dropped in SQLite's file, `ALTER TABLE … DISABLE TRIGGER` on PostgreSQL (test/audit/rewrite).
 */
import type { PostgresStore } from '../../gateway/storage/postgres/store.js';
import type { SqliteStore } from '../../gateway/storage/sqlite/store.js';
import type { Store } from '../../gateway/storage/store.js';

export interface TestSql {
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** A change (as someone with database access would make it); resolves with the rows changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
}

/** An SQLite connection (the store's, or a second one to its file) as TestSql. */
export function connectionSql(db: SqliteStore['db']): TestSql {
  return {
    get: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T | undefined,
    all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
    run: async (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params).changes,
  };
}

export function storeSql(store: Store): TestSql {
  if (store.engine === 'sqlite') return connectionSql((store as SqliteStore).db);
  const pool = (store as PostgresStore).pool;
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    get: async <T>(sql: string, ...params: unknown[]) => (await pool.query(numbered(sql), params)).rows[0] as T | undefined,
    all: async <T>(sql: string, ...params: unknown[]) => (await pool.query(numbered(sql), params)).rows as T[],
    run: async (sql: string, ...params: unknown[]) => (await pool.query(numbered(sql), params)).rowCount ?? 0,
  };
}
