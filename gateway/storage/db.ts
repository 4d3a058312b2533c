/**
 * Opens the gateway's SQLite database with the durability the exchange promises: WAL so readers never
 * block the writer, synchronous=FULL so a submission acknowledged to a hospital survives power loss. The
 * gateway's store then moves its write connection to NORMAL with the fsync done off the event loop
 * (sqlite/wal-sync.ts); other users of this function keep FULL.
 */
import Database from 'better-sqlite3';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import { BACKSTOP_AUTOCHECKPOINT_PAGES } from './wal-checkpointer.js';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // 64 MiB of page cache (the default is 2 MiB): the audit log's indexes and Merkle nodes outgrow
  // 2 MiB after ~100k events, and appends then slow down several-fold on page misses (bench/audit.ts).
  db.pragma('cache_size = -65536');
  // Checkpoints run on their own thread (wal-checkpointer.ts); this threshold is only the backstop, and
  // the WAL file is cut back to 64 MiB after each reset.
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  db.pragma('journal_size_limit = 67108864');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema ${version} is newer than this gateway supports (${SCHEMA_VERSION})`);
  }
  db.transaction(() => {
    if (version >= 1 && version < 3) addDecisionRetention(db);
    if (version >= 1 && version < 4) dropAuditCopyIndexes(db);
    db.exec(SCHEMA); // creates what is missing (IF NOT EXISTS): version 2's table, new indexes
    if (version === 1) moveCiphertextOutOfTransfers(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * Version 1 kept the JWE in the transfers row; version 2 keeps it in transfer_payloads, and indexes the
 * queue and consents without the ever-changing state (see schema.ts).
 */
function moveCiphertextOutOfTransfers(db: Db): void {
  db.exec(`INSERT INTO transfer_payloads (transfer_id, payload) SELECT transfer_id, payload FROM transfers WHERE payload IS NOT NULL;
    ALTER TABLE transfers DROP COLUMN payload;
    DROP INDEX IF EXISTS transfers_ready;
    DROP INDEX IF EXISTS transfers_by_consent;`);
}

/** Version 3: decisions carry the hospital's acknowledgement and the token's retention (see schema.ts). */
function addDecisionRetention(db: Db): void {
  db.exec(`ALTER TABLE decisions ADD COLUMN acknowledged_at INTEGER;
    ALTER TABLE decisions ADD COLUMN purge_after INTEGER;
    ALTER TABLE decisions ADD COLUMN purged_at INTEGER;`);
}

/** Version 4 indexes the audit log on event_json itself; the indexes on its copy columns go. */
function dropAuditCopyIndexes(db: Db): void {
  for (const name of ['audit_by_time', 'audit_by_action', 'audit_by_consent', 'audit_by_transfer', 'audit_by_patient']) {
    db.exec(`DROP INDEX IF EXISTS ${name}`);
  }
}
