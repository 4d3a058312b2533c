/**
 * `hdx gateway migrate --to postgres`: an exchange grown out of SQLite moves into PostgreSQL whole — every
 * table copied as it is (the same columns on both engines), the log heads set where SQLite's log ends, all
 * in ONE PostgreSQL transaction that commits only after the copy's log verifies as a backup's does (the
 * latest signed checkpoint's signature, every event re-hashed into its root) and the copied Merkle tree
 * gives that checkpoint's root. The SQLite folder is locked meanwhile (no gateway may serve it) and left
 * as it was; the target database must be empty.
 */
import type Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { lockFolder } from '../../../cli/runtime/folder-lock.js';
import { BackupRefused, checkDatabaseLog, DATABASE_FILE, logChecker, type GatewayFolders, type LogCheck } from '../../backup.js';
import { openDatabase } from '../db.js';
import { clientConfig } from './connect.js';
import { migrate } from './migrate.js';
import { treeReads } from './tree.js';

/** In foreign-key order. Columns are read from SQLite and written under the same names. */
const TABLES = ['consents', 'idempotency', 'submissions', 'transfers', 'transfer_payloads', 'decisions', 'audit_events', 'merkle_nodes', 'checkpoints'] as const;
const ROWS_PER_INSERT = 500;
/** The tables SQLite keeps WITHOUT ROWID, copied in their key's order. */
const WITHOUT_ROWID = { idempotency: 'party_id, method, idem_key', merkle_nodes: 'level, idx' } as const;

export interface ImportResult extends LogCheck {
  /** Rows copied, per table. */
  rows: Record<string, number>;
}

export async function importSqlite(folders: GatewayFolders, connectionString: string): Promise<ImportResult> {
  const dataDir = folders.dataDir ?? folders.gatewayDir;
  const path = join(dataDir, DATABASE_FILE);
  const lock = lockFolder(dataDir, 'hdx gateway migrate');
  try {
    checkDatabaseLog(path, folders.gatewayDir); // the source verifies before anything is copied
    const db = openDatabase(path); // at the current schema (a gateway's start would migrate it the same way)
    const client = new pg.Client(clientConfig(connectionString));
    await client.connect();
    try {
      await migrate(client);
      await client.query('BEGIN');
      try {
        const result = await copy(db, client, folders.gatewayDir);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      db.close();
      await client.end();
    }
  } finally {
    lock.release();
  }
}

async function copy(db: Database.Database, client: pg.Client, gatewayDir: string): Promise<ImportResult> {
  const head = (await client.query<{ seq: number }>('SELECT next_seq AS seq FROM audit_head FOR UPDATE')).rows[0]!;
  const used = await client.query('SELECT 1 FROM consents UNION ALL SELECT 1 FROM submissions UNION ALL SELECT 1 FROM idempotency LIMIT 1');
  if (head.seq !== 0 || used.rowCount !== 0) throw new BackupRefused('the PostgreSQL database already holds an exchange: migrate into an empty one');

  const rows: Record<string, number> = {};
  for (const table of TABLES) rows[table] = await copyTable(db, client, table);

  const last = db.prepare('SELECT seq, leaf_hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; leaf_hash: Buffer } | undefined;
  // The next cursor continues SQLite's AUTOINCREMENT (never reusing a cursor a hospital may have seen).
  const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").get() as { seq: number } | undefined;
  const maxCursor = (db.prepare('SELECT max(cursor) AS c FROM decisions').get() as { c: number | null }).c ?? 0;
  const size = last ? last.seq + 1 : 0;
  await client.query('UPDATE audit_head SET next_seq = $1, prev = $2, next_cursor = $3', [size, last?.leaf_hash ?? null, Math.max(maxCursor, sequence?.seq ?? 0) + 1]);
  // SQLite integrates every append at once: its tree covers every event.
  await client.query('UPDATE tree_head SET size = $1', [size]);

  // Verified inside the transaction: nothing is committed that does not verify.
  const latest = (await client.query<{ tree_size: number; root_hash: Buffer; note: string }>(
    'SELECT tree_size, root_hash, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1',
  )).rows[0];
  const label = 'the migrated database';
  const log = logChecker(label, gatewayDir, latest?.note, size);
  for (let from = 0; from < size; from += ROWS_PER_INSERT) {
    const page = await client.query<{ seq: number; event_json: string; leaf_hash: Buffer }>(
      'SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [from, ROWS_PER_INSERT],
    );
    for (const row of page.rows) log.push(row);
  }
  const check = log.finish();
  if (latest && !(await treeReads(client).root(latest.tree_size)).equals(latest.root_hash)) {
    throw new BackupRefused(`${label}: the copied Merkle tree does not give the signed checkpoint's root at size ${latest.tree_size}`);
  }
  return { ...check, rows };
}

/** Copies every row of `table` in multi-row INSERTs; returns how many. */
async function copyTable(db: Database.Database, client: pg.Client, table: (typeof TABLES)[number]): Promise<number> {
  const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).map((c) => c.name);
  // Insertion order where there is a rowid (consents' ties are broken by it, PostgreSQL's recorded_no).
  const order = WITHOUT_ROWID[table as keyof typeof WITHOUT_ROWID] ?? 'rowid';
  let count = 0;
  let batch: unknown[][] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const values = batch.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, batch.flat());
    count += batch.length;
    batch = [];
  };
  for (const row of db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order}`).raw().iterate() as Iterable<unknown[]>) {
    batch.push(row);
    if (batch.length === ROWS_PER_INSERT) await flush();
  }
  await flush();
  return count;
}
