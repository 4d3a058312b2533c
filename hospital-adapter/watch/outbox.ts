/**
 * The daemon's outbox: one row per dropped file, written before anything else is done with it, so that a
 * crash at any point resumes where it stopped. It holds the file's name, digest and idempotency key and
 * where it is in its life — never the bundle or anything read from it (the bundle stays in the file).
 *
 *   pending → (submitted: the gateway answered OK) → done   (file moved to done/)
 *           → failed                                          (file moved to failed/, with a reason file)
 *
 * A row becomes `done`/`failed` in the same transaction that records the answer; the move of the file
 * follows, and is redone after a crash (`unmoved`). A transient failure keeps the row `pending` (the daemon
 * backs off as a whole: the gateway is down for every file alike).
 */
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';

export type OutboxState = 'pending' | 'done' | 'failed';

export interface OutboxRow {
  id: number;
  name: string;
  digest: string;
  idempotencyKey: string;
  state: OutboxState;
  attempts: number;
  moved: boolean;
  submissionId: string | null;
  reason: string | null;
}

interface RawRow {
  id: number;
  name: string;
  digest: string;
  idempotency_key: string;
  state: OutboxState;
  attempts: number;
  moved: number;
  submission_id: string | null;
  reason: string | null;
}

const rowOf = (raw: RawRow): OutboxRow => ({
  id: raw.id,
  name: raw.name,
  digest: raw.digest,
  idempotencyKey: raw.idempotency_key,
  state: raw.state,
  attempts: raw.attempts,
  moved: raw.moved === 1,
  submissionId: raw.submission_id,
  reason: raw.reason,
});

export class Outbox {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    chmodSync(path, 0o600); // file names and keys only, but the adapter's state is the hospital's own
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS files (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        moved INTEGER NOT NULL DEFAULT 0,
        submission_id TEXT,
        reason TEXT,
        seen_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (name, digest)
      );
      CREATE INDEX IF NOT EXISTS files_pending ON files (id) WHERE state = 'pending';
      CREATE INDEX IF NOT EXISTS files_unmoved ON files (moved) WHERE moved = 0 AND state != 'pending';
    `);
  }

  /** Records a dropped file (once per name and content); returns its row. */
  record(name: string, digest: string, idempotencyKey: string, now: number): OutboxRow {
    this.db
      .prepare(
        `INSERT INTO files (name, digest, idempotency_key, state, seen_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?)
         ON CONFLICT (name, digest) DO NOTHING`,
      )
      .run(name, digest, idempotencyKey, now, now);
    return rowOf(this.db.prepare('SELECT * FROM files WHERE name = ? AND digest = ?').get(name, digest) as RawRow);
  }

  /** Pending rows, oldest first. */
  pending(limit: number): OutboxRow[] {
    return (this.db.prepare(`SELECT * FROM files WHERE state = 'pending' ORDER BY id LIMIT ?`).all(limit) as RawRow[]).map(rowOf);
  }

  /** Rows answered but whose file has not been moved yet (a crash in between). */
  unmoved(): OutboxRow[] {
    return (this.db.prepare(`SELECT * FROM files WHERE moved = 0 AND state != 'pending' ORDER BY id`).all() as RawRow[]).map(rowOf);
  }

  succeeded(id: number, submissionId: string, now: number): void {
    this.db
      .prepare(`UPDATE files SET state = 'done', submission_id = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?`)
      .run(submissionId, now, id);
  }

  /** `reason` names a status or a problem's element, never content. */
  failed(id: number, reason: string, now: number): void {
    this.db.prepare(`UPDATE files SET state = 'failed', reason = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?`).run(reason, now, id);
  }

  /** A transient failure: the row stays pending. */
  attempted(id: number, now: number): void {
    this.db.prepare(`UPDATE files SET attempts = attempts + 1, updated_at = ? WHERE id = ?`).run(now, id);
  }

  /** An answered file dropped again: move it like the first (replayed by the gateway if sent again). */
  markMovedPending(id: number): void {
    this.db.prepare('UPDATE files SET moved = 0 WHERE id = ?').run(id);
  }

  markMoved(id: number): void {
    this.db.prepare('UPDATE files SET moved = 1 WHERE id = ?').run(id);
  }

  /** The row of a pending file that is no longer in the drop folder is dropped (the HIS took it back). */
  forget(id: number): void {
    this.db.prepare(`DELETE FROM files WHERE id = ? AND state = 'pending'`).run(id);
  }

  counts(): Record<OutboxState, number> {
    const counts: Record<OutboxState, number> = { pending: 0, done: 0, failed: 0 };
    for (const row of this.db.prepare('SELECT state, COUNT(*) AS n FROM files GROUP BY state').all() as Array<{ state: OutboxState; n: number }>) {
      counts[row.state] = row.n;
    }
    return counts;
  }

  close(): void {
    this.db.close();
  }
}
