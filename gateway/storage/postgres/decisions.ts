/**
 * Settlement decisions on PostgreSQL (../decisions.ts's statements). A decision's cursor comes from the
 * log head's counter, whose row lock the inserting transaction holds to COMMIT: cursors therefore become
 * visible in the order they were assigned, across replicas, and a hospital's stream (`cursor > c`) never
 * skips one that commits late (a sequence alone would allow that).
 */
import type { DecisionRow, TimingRow } from '../rows.js';
import type { NewDecision } from '../store.js';
import type { Queryable } from './connect.js';

type Purged = Pick<DecisionRow, 'cursor' | 'decision_id' | 'transfer_id' | 'hospital_id' | 'insurer_id'>;

export function decisionStatements(q: Queryable) {
  return {
    async insert(row: NewDecision): Promise<number> {
      const { rows } = await q.query<{ cursor: number }>(
        `WITH c AS (UPDATE audit_head SET next_cursor = next_cursor + 1 RETURNING next_cursor - 1 AS cursor)
         INSERT INTO decisions (cursor, decision_id, transfer_id, submission_id, hospital_id, insurer_id, revision_of,
           outcome, decision, decision_digest, recorded_at)
         SELECT c.cursor, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM c RETURNING cursor`,
        [row.decision_id, row.transfer_id, row.submission_id, row.hospital_id, row.insurer_id, row.revision_of,
          row.outcome, row.decision, row.decision_digest, row.recorded_at],
      );
      return rows[0]!.cursor;
    },
    async acknowledge(hospital: string, through: number, now: number, purgeAfter: number): Promise<number> {
      const result = await q.query(
        `UPDATE decisions SET acknowledged_at = $3, purge_after = $4
         WHERE hospital_id = $1 AND cursor <= $2 AND acknowledged_at IS NULL`,
        [hospital, through, now, purgeAfter],
      );
      return result.rowCount ?? 0;
    },
    async purgeDue(now: number): Promise<Purged[]> {
      return (await q.query<Purged>(
        `UPDATE decisions SET decision = '', purged_at = $1
         WHERE purge_after IS NOT NULL AND purge_after <= $1 AND purged_at IS NULL
         RETURNING cursor, decision_id, transfer_id, hospital_id, insurer_id`,
        [now],
      )).rows.sort((a, b) => a.cursor - b.cursor);
    },
    async get(insurerId: string, decisionId: string): Promise<DecisionRow | undefined> {
      return (await q.query<DecisionRow>('SELECT * FROM decisions WHERE insurer_id = $1 AND decision_id = $2', [insurerId, decisionId])).rows[0];
    },
    async forTransfer(id: string): Promise<DecisionRow[]> {
      return (await q.query<DecisionRow>('SELECT * FROM decisions WHERE transfer_id = $1 ORDER BY cursor', [id])).rows;
    },
    async latestForTransfer(id: string): Promise<DecisionRow | undefined> {
      return (await q.query<DecisionRow>('SELECT * FROM decisions WHERE transfer_id = $1 ORDER BY cursor DESC LIMIT 1', [id])).rows[0];
    },
    async forHospital(hospital: string, after: number, limit: number): Promise<DecisionRow[]> {
      return (await q.query<DecisionRow>(
        'SELECT * FROM decisions WHERE hospital_id = $1 AND cursor > $2 AND purged_at IS NULL ORDER BY cursor LIMIT $3',
        [hospital, after, limit],
      )).rows;
    },
    async timings(since: number, until: number, insurer: string): Promise<TimingRow[]> {
      return (await q.query<TimingRow>(
        `SELECT t.transfer_id, t.insurer_id, s.purpose, s.encounter_class, t.state,
           t.created_at AS submitted_at, t.delivered_at, t.acknowledged_at, t.decided_at
         FROM transfers t JOIN submissions s ON s.submission_id = t.submission_id
         WHERE t.created_at >= $1 AND t.created_at < $2 AND ($3 = '' OR t.insurer_id = $3)
         ORDER BY t.created_at, t.transfer_id`,
        [since, until, insurer],
      )).rows;
    },
  };
}
