/**
 * What an operator with write access to the gateway's SQLite file could do, for the tamper tests:
 * drop the append-only triggers, and rewrite the log so that it is self-consistent again — every
 * event re-chained, every leaf and stored subtree hash recomputed, the old signed checkpoints deleted so
 * the gateway will sign the new history. The officer's saved checkpoint is what must catch it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { createTreeStore } from '../../gateway/audit/tree-store.js';
import { canonicalJson } from '../../keys/canonical.js';
import { leafHash } from '../../keys/transparency/index.js';

export type RawEvent = Record<string, unknown> & { seq: number; action: string; prev: string };

export function dropAppendOnlyTriggers(db: Database): void {
  const triggers = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as Array<{ name: string }>;
  for (const { name } of triggers) db.exec(`DROP TRIGGER "${name}"`);
}

export function readEvents(db: Database): RawEvent[] {
  return (db.prepare('SELECT event_json FROM audit_events ORDER BY seq').all() as Array<{ event_json: string }>).map(
    (r) => JSON.parse(r.event_json) as RawEvent,
  );
}

/**
 * Replaces the whole log with `edit(events)`, renumbered and re-chained, with its Merkle tree rebuilt.
 * `keepCheckpoints` leaves the gateway's signed checkpoints in place (a less careful attacker).
 */
export function rewriteLog(db: Database, edit: (events: RawEvent[]) => RawEvent[], options: { keepCheckpoints?: boolean } = {}): number {
  dropAppendOnlyTriggers(db);
  const events = edit(readEvents(db));
  const insert = db.prepare(
    `INSERT INTO audit_events (seq, at, action, actor, consent_id, transfer_id, patient_ref, parties, event_json, leaf_hash)
     VALUES (@seq, @at, @action, @actor, @consent, @transfer, @patient, @parties, @json, @leaf)`,
  );
  db.transaction(() => {
    db.exec('DELETE FROM audit_events; DELETE FROM merkle_nodes;');
    if (!options.keepCheckpoints) db.exec('DELETE FROM checkpoints;');
    const tree = createTreeStore(db);
    let prev = '';
    events.forEach((event, seq) => {
      const rechained: RawEvent = { ...event, seq, prev };
      const json = canonicalJson(rechained);
      const leaf = leafHash(Buffer.from(json, 'utf8'));
      insert.run({
        seq,
        at: Date.parse(String(rechained['at'])),
        action: rechained.action,
        actor: rechained['actor'],
        consent: rechained['consent'] ?? null,
        transfer: rechained['transfer'] ?? null,
        patient: rechained['patient'] ?? null,
        parties: [rechained['actor'], ...((rechained['parties'] as string[] | undefined) ?? [])].join(' '),
        json,
        leaf,
      });
      tree.append(leaf);
      prev = leaf.toString('base64');
    });
  })();
  // createTreeStore re-created the merkle triggers; the gateway re-creates the others when it opens the file.
  return events.length;
}

/**
 * Corrupts one index page of a stopped gateway's file, as a bad disk or an editor of the raw bytes
 * would: in the pages of `index`, the last copy of `key` gets its final byte changed, so that entry no
 * longer reads as `key`. No SQL runs on the index (nothing re-derives it). Returns the page changed.
 */
export function corruptIndexEntry(dbPath: string, index: string, key: string): number {
  const db = new BetterSqlite3(dbPath);
  let pageSize: number;
  let pages: number[];
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    pageSize = Number(db.pragma('page_size', { simple: true }));
    const root = db.prepare(`SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = ?`).get(index) as { rootpage: number } | undefined;
    if (!root) throw new Error(`no index ${index}`);
    pages = (db.prepare('SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno').all(index) as Array<{ pageno: number }>).map((r) => r.pageno);
    if (!pages.includes(root.rootpage)) throw new Error(`dbstat does not list the root page of ${index}`);
  } finally {
    db.close();
  }
  const file = readFileSync(dbPath);
  const needle = Buffer.from(key, 'utf8');
  for (const page of [...pages].reverse()) {
    const start = (page - 1) * pageSize;
    const at = file.subarray(start, start + pageSize).lastIndexOf(needle);
    if (at < 0) continue;
    const last = start + at + needle.length - 1;
    file[last] = file[last] === 0x7a ? 0x79 : 0x7a; // 'z' (or 'y'): still text, another value
    writeFileSync(dbPath, file);
    return page;
  }
  throw new Error(`${index} holds no entry for the key`);
}
