/**
 * Applies the pending migrations (schema.ts) in one transaction, under an advisory lock so that replicas
 * starting together migrate once. A database migrated by a newer gateway is refused, not guessed at.
 */
import type pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { LOCK_CLASS, LOCKS } from './locks.js';

export async function migrate(client: pg.ClientBase, now: number = Date.now()): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCKS.migrate]);
    await client.query('CREATE TABLE IF NOT EXISTS hdx_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM hdx_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`database schema ${current} is newer than this gateway supports (${SCHEMA_VERSION})`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO hdx_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, now]);
    }
    await client.query('COMMIT');
    return SCHEMA_VERSION;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
