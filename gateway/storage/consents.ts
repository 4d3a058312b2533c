/** Consent rows. Statements are prepared once; callers run writes inside a transaction. */
import type { Db } from './db.js';

export type { ConsentRow, ConsentViewer, ListFilter } from './rows.js';
import type { ConsentRow, ConsentViewer, ListFilter } from './rows.js';

/**
 * Who may read a consent — the one rule for List, Get and Revoke: the regulator every consent; an insurer
 * those naming it; a hospital those it recorded or that name it (an "any hospital" consent recorded
 * elsewhere covers its submissions but is not its to read: it holds another hospital's patient and policy
 * number). Any other role sees nothing (fail closed).
 */
const VISIBLE_TO_VIEWER = `(@viewerRole = 'regulator'
  OR (@viewerRole = 'insurer' AND insurer_id = @viewerId)
  OR (@viewerRole = 'hospital' AND (recorded_by = @viewerId
    OR EXISTS (SELECT 1 FROM json_each(hospitals) WHERE json_each.value = @viewerId))))`;


const viewerParams = (viewer: ConsentViewer) => ({ viewerId: viewer.id, viewerRole: viewer.role });


export function consentRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO consents VALUES (@consent_id, @patient_key, @insurer_id, @policy_sealed,
    @purpose, @categories, @any_hospital, @hospitals, @valid_from, @valid_until, @capture, @terms_digest,
    @recorded_by, @recorded_at, NULL, NULL)`);
  const byId = db.prepare('SELECT * FROM consents WHERE consent_id = ?');
  const visibleById = db.prepare(`SELECT * FROM consents WHERE consent_id = @id AND ${VISIBLE_TO_VIEWER}`);
  // In recording order (rowid breaks ties within a millisecond), so callers can take the latest.
  const byPatient = db.prepare('SELECT * FROM consents WHERE patient_key = ? AND revoked_at IS NULL ORDER BY recorded_at, rowid');
  const revoke = db.prepare(
    'UPDATE consents SET revoked_at = ?, revoked_by = ? WHERE consent_id = ? AND revoked_at IS NULL',
  );
  return {
    insert: (row: Omit<ConsentRow, 'revoked_at' | 'revoked_by'>) => void insert.run(row),
    /** Any consent, for the gateway's own use (coverage, replies); never for answering a caller's read. */
    get: (id: string) => byId.get(id) as ConsentRow | undefined,
    /** The consent if `viewer` may read it; undefined whether it is missing or not theirs. */
    visibleTo: (viewer: ConsentViewer, id: string) => visibleById.get({ id, ...viewerParams(viewer) }) as ConsentRow | undefined,
    unrevokedForPatient: (patientKey: Buffer) => byPatient.all(patientKey) as ConsentRow[],
    revoke: (id: string, at: number, by: string) => revoke.run(at, by, id).changes === 1,
    list(filter: ListFilter): ConsentRow[] {
      const where = [
        VISIBLE_TO_VIEWER,
        '(recorded_at > @afterRecordedAt OR (recorded_at = @afterRecordedAt AND consent_id > @afterId))',
      ];
      if (filter.patientKey) where.push('patient_key = @patientKey');
      if (filter.insurerId) where.push('insurer_id = @insurerId');
      if (filter.activeAt !== undefined) {
        where.push('revoked_at IS NULL AND valid_from <= @activeAt AND valid_until > @activeAt');
      }
      // Dynamic filters: a handful of shapes, cached by SQLite's statement cache in better-sqlite3.
      return db
        .prepare(`SELECT * FROM consents WHERE ${where.join(' AND ')} ORDER BY recorded_at, consent_id LIMIT @limit`)
        .all({
          ...viewerParams(filter.viewer),
          afterRecordedAt: filter.afterRecordedAt,
          afterId: filter.afterId,
          patientKey: filter.patientKey ?? null,
          insurerId: filter.insurerId ?? null,
          activeAt: filter.activeAt ?? null,
          limit: filter.limit,
        }) as ConsentRow[];
    },
  };
}

export type ConsentRepository = ReturnType<typeof consentRepository>;
