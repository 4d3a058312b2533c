import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../gateway/storage/db.js';
import { SCHEMA_VERSION } from '../../gateway/storage/schema.js';
import { transferRepository } from '../../gateway/storage/transfers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database as version 1 left it: the JWE in the transfers row. */
function versionOneDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hdx-schema-'));
  dirs.push(dir);
  const path = join(dir, 'gateway.db');
  const db = openDatabase(path);
  db.pragma('foreign_keys = OFF');
  db.exec(`DROP TABLE transfer_payloads; ALTER TABLE transfers ADD COLUMN payload TEXT;
    DROP INDEX transfers_leased; DROP INDEX transfers_by_consent_id; DROP INDEX decisions_purge;
    ALTER TABLE decisions DROP COLUMN acknowledged_at; ALTER TABLE decisions DROP COLUMN purge_after;
    ALTER TABLE decisions DROP COLUMN purged_at;
    CREATE INDEX transfers_ready ON transfers(insurer_id, state, lease_expires_at);
    CREATE INDEX transfers_by_consent ON transfers(consent_id, state);
    CREATE INDEX audit_by_patient ON audit_events(patient_ref) WHERE patient_ref IS NOT NULL;
    CREATE INDEX audit_by_action ON audit_events(action, seq);
    PRAGMA user_version = 1;`);
  const insert = db.prepare(`INSERT INTO transfers (transfer_id, submission_id, insurer_id, consent_id, pseudonym,
    patient_ref, envelope, envelope_digest, payload, state, created_at) VALUES (?, 'sub_1', 'ins', 'con_1', 'p', 'r', 'env', 'd', ?, ?, 1)`);
  insert.run('trf_kept', 'jwe-kept', 'pending');
  insert.run('trf_purged', null, 'acknowledged');
  db.close();
  return path;
}

describe('schema migration', () => {
  it('takes a version 1 database to the current version: ciphertext out of the transfers row, losing none; decision retention columns; audit indexes on the verified JSON', () => {
    const db = openDatabase(versionOneDatabase());
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const columns = (db.prepare('PRAGMA table_info(transfers)').all() as Array<{ name: string }>).map((c) => c.name);
      expect(columns).not.toContain('payload');
      const transfers = transferRepository(db);
      expect(transfers.payload('trf_kept')).toBe('jwe-kept');
      expect(transfers.payload('trf_purged')).toBeUndefined();
      expect(transfers.get('trf_kept')?.state).toBe('pending');
      const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transfers'`).all() as Array<{ name: string }>).map((i) => i.name);
      expect(indexes).toEqual(expect.arrayContaining(['transfers_leased', 'transfers_by_consent_id', 'transfers_pending']));
      expect(indexes).not.toContain('transfers_ready');
      expect(indexes).not.toContain('transfers_by_consent');
      const auditIndexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'`).all() as Array<{ name: string }>).map((i) => i.name);
      expect(auditIndexes).toEqual(expect.arrayContaining(['audit_patient', 'audit_action', 'audit_transfer']));
      expect(auditIndexes).not.toContain('audit_by_patient');
      expect(auditIndexes).not.toContain('audit_by_action');
      const decisionColumns = (db.prepare('PRAGMA table_info(decisions)').all() as Array<{ name: string }>).map((c) => c.name);
      expect(decisionColumns).toEqual(expect.arrayContaining(['acknowledged_at', 'purge_after', 'purged_at']));
    } finally {
      db.close();
    }
  });

  it('refuses a database newer than it understands', () => {
    const path = versionOneDatabase();
    const db = openDatabase(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer than this gateway supports/);
  });
});
