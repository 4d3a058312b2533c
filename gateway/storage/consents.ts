/** Consent rows. Statements are prepared once; callers run writes inside a transaction. */
import type { Db } from './db.js';

export interface ConsentRow {
  consent_id: string;
  patient_key: Buffer;
  insurer_id: string;
  policy_sealed: Buffer;
  purpose: string;
  categories: string;
  any_hospital: number;
  hospitals: string;
  valid_from: number;
  valid_until: number;
  capture: string;
  terms_digest: string;
  recorded_by: string;
  recorded_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

export interface ListFilter {
  patientKey?: Buffer;
  insurerId?: string;
  /** Only consents this hospital recorded or that name it (or any hospital). */
  visibleToHospital?: string;
  activeAt?: number;
  afterRecordedAt: number;
  afterId: string;
  limit: number;
}

export function consentRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO consents VALUES (@consent_id, @patient_key, @insurer_id, @policy_sealed,
    @purpose, @categories, @any_hospital, @hospitals, @valid_from, @valid_until, @capture, @terms_digest,
    @recorded_by, @recorded_at, NULL, NULL)`);
  const byId = db.prepare('SELECT * FROM consents WHERE consent_id = ?');
  // In recording order (rowid breaks ties within a millisecond), so callers can take the latest.
  const byPatient = db.prepare('SELECT * FROM consents WHERE patient_key = ? AND revoked_at IS NULL ORDER BY recorded_at, rowid');
  const revoke = db.prepare(
    'UPDATE consents SET revoked_at = ?, revoked_by = ? WHERE consent_id = ? AND revoked_at IS NULL',
  );
  return {
    insert: (row: Omit<ConsentRow, 'revoked_at' | 'revoked_by'>) => void insert.run(row),
    get: (id: string) => byId.get(id) as ConsentRow | undefined,
    unrevokedForPatient: (patientKey: Buffer) => byPatient.all(patientKey) as ConsentRow[],
    revoke: (id: string, at: number, by: string) => revoke.run(at, by, id).changes === 1,
    list(filter: ListFilter): ConsentRow[] {
      const where = ['(recorded_at > @afterRecordedAt OR (recorded_at = @afterRecordedAt AND consent_id > @afterId))'];
      if (filter.patientKey) where.push('patient_key = @patientKey');
      if (filter.insurerId) where.push('insurer_id = @insurerId');
      if (filter.visibleToHospital) {
        where.push(`(recorded_by = @hospital OR any_hospital = 1 OR EXISTS
          (SELECT 1 FROM json_each(hospitals) WHERE json_each.value = @hospital))`);
      }
      if (filter.activeAt !== undefined) {
        where.push('revoked_at IS NULL AND valid_from <= @activeAt AND valid_until > @activeAt');
      }
      // Dynamic filters: a handful of shapes, cached by SQLite's statement cache in better-sqlite3.
      return db
        .prepare(`SELECT * FROM consents WHERE ${where.join(' AND ')} ORDER BY recorded_at, consent_id LIMIT @limit`)
        .all({
          afterRecordedAt: filter.afterRecordedAt,
          afterId: filter.afterId,
          patientKey: filter.patientKey ?? null,
          insurerId: filter.insurerId ?? null,
          hospital: filter.visibleToHospital ?? null,
          activeAt: filter.activeAt ?? null,
          limit: filter.limit,
        }) as ConsentRow[];
    },
  };
}

export type ConsentRepository = ReturnType<typeof consentRepository>;
