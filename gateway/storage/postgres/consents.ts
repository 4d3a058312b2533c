/** Consent rows on PostgreSQL: the statements of ../consents.ts, with the same visibility rule. */
import type { ConsentRow, ConsentViewer, ListFilter } from '../rows.js';
import type { Queryable } from './connect.js';

const COLUMNS = `consent_id, patient_key, insurer_id, policy_sealed, purpose, categories, any_hospital, hospitals,
  valid_from, valid_until, capture, terms_digest, recorded_by, recorded_at, revoked_at, revoked_by`;

/**
 * Who may read a consent (../consents.ts states the rule): $1 the viewer's role, $2 its id. `?` on the
 * hospitals array: does it hold the id as an element.
 */
const VISIBLE_TO_VIEWER = `($1 = 'regulator'
  OR ($1 = 'insurer' AND insurer_id = $2)
  OR ($1 = 'hospital' AND (recorded_by = $2 OR hospitals::jsonb ? $2)))`;

export function consentStatements(q: Queryable) {
  return {
    async insert(row: Omit<ConsentRow, 'revoked_at' | 'revoked_by'>): Promise<void> {
      await q.query(
        `INSERT INTO consents (consent_id, patient_key, insurer_id, policy_sealed, purpose, categories, any_hospital,
          hospitals, valid_from, valid_until, capture, terms_digest, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [row.consent_id, row.patient_key, row.insurer_id, row.policy_sealed, row.purpose, row.categories, row.any_hospital,
          row.hospitals, row.valid_from, row.valid_until, row.capture, row.terms_digest, row.recorded_by, row.recorded_at],
      );
    },
    async get(id: string): Promise<ConsentRow | undefined> {
      return (await q.query<ConsentRow>(`SELECT ${COLUMNS} FROM consents WHERE consent_id = $1`, [id])).rows[0];
    },
    async visibleTo(viewer: ConsentViewer, id: string): Promise<ConsentRow | undefined> {
      const sql = `SELECT ${COLUMNS} FROM consents WHERE consent_id = $3 AND ${VISIBLE_TO_VIEWER}`;
      return (await q.query<ConsentRow>(sql, [viewer.role, viewer.id, id])).rows[0];
    },
    async unrevokedForPatient(patientKey: Buffer): Promise<ConsentRow[]> {
      const sql = `SELECT ${COLUMNS} FROM consents WHERE patient_key = $1 AND revoked_at IS NULL ORDER BY recorded_at, recorded_no`;
      return (await q.query<ConsentRow>(sql, [patientKey])).rows;
    },
    async revoke(id: string, at: number, by: string): Promise<boolean> {
      const result = await q.query('UPDATE consents SET revoked_at = $1, revoked_by = $2 WHERE consent_id = $3 AND revoked_at IS NULL', [at, by, id]);
      return result.rowCount === 1;
    },
    async list(filter: ListFilter): Promise<ConsentRow[]> {
      const params: unknown[] = [filter.viewer.role, filter.viewer.id, filter.afterRecordedAt, filter.afterId];
      const where = [VISIBLE_TO_VIEWER, '(recorded_at > $3 OR (recorded_at = $3 AND consent_id > $4))'];
      const param = (value: unknown) => `$${params.push(value)}`;
      if (filter.patientKey) where.push(`patient_key = ${param(filter.patientKey)}`);
      if (filter.insurerId) where.push(`insurer_id = ${param(filter.insurerId)}`);
      if (filter.activeAt !== undefined) {
        const at = param(filter.activeAt);
        where.push(`revoked_at IS NULL AND valid_from <= ${at} AND valid_until > ${at}`);
      }
      const limit = param(filter.limit);
      const sql = `SELECT ${COLUMNS} FROM consents WHERE ${where.join(' AND ')} ORDER BY recorded_at, consent_id LIMIT ${limit}`;
      return (await q.query<ConsentRow>(sql, params)).rows;
    },
  };
}
