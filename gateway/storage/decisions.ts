/**
 * Settlement decisions, in arrival order (the cursor lets a hospital's stream resume exactly), and the
 * transfer timers that service-level figures are computed from.
 */
import type { Db } from './db.js';

export type { DecisionRow, TimingRow } from './rows.js';
import type { DecisionRow, TimingRow } from './rows.js';

export function decisionRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO decisions (decision_id, transfer_id, submission_id, hospital_id, insurer_id,
    revision_of, outcome, decision, decision_digest, recorded_at) VALUES (@decision_id, @transfer_id, @submission_id,
    @hospital_id, @insurer_id, @revision_of, @outcome, @decision, @decision_digest, @recorded_at) RETURNING cursor`);
  const forTransfer = db.prepare('SELECT * FROM decisions WHERE transfer_id = ? ORDER BY cursor');
  const latest = db.prepare('SELECT * FROM decisions WHERE transfer_id = ? ORDER BY cursor DESC LIMIT 1');
  const byId = db.prepare('SELECT * FROM decisions WHERE insurer_id = ? AND decision_id = ?');
  // Purged tokens are not streamed again: the hospital acknowledged them before their retention began.
  const forHospital = db.prepare(
    'SELECT * FROM decisions WHERE hospital_id = ? AND cursor > ? AND purged_at IS NULL ORDER BY cursor LIMIT ?',
  );
  const acknowledge = db.prepare(`UPDATE decisions SET acknowledged_at = @now, purge_after = @purgeAfter
    WHERE hospital_id = @hospital AND cursor <= @through AND acknowledged_at IS NULL`);
  const purgeDue = db.prepare(`UPDATE decisions SET decision = '', purged_at = @now
    WHERE purge_after IS NOT NULL AND purge_after <= @now AND purged_at IS NULL
    RETURNING cursor, decision_id, transfer_id, hospital_id, insurer_id`);
  // Submitted in [since, until); the insurer filter is optional ('' matches all).
  const timings = db.prepare(`SELECT t.transfer_id, t.insurer_id, s.purpose, s.encounter_class, t.state,
      t.created_at AS submitted_at, t.delivered_at, t.acknowledged_at, t.decided_at
    FROM transfers t JOIN submissions s ON s.submission_id = t.submission_id
    WHERE t.created_at >= @since AND t.created_at < @until AND (@insurer = '' OR t.insurer_id = @insurer)
    ORDER BY t.created_at, t.transfer_id`);
  return {
    insert: (row: Omit<DecisionRow, 'cursor' | 'acknowledged_at' | 'purge_after' | 'purged_at'>) => (insert.get(row) as { cursor: number }).cursor,
    /** Marks the hospital's decisions through `through` acknowledged; returns how many were new. */
    acknowledge: (hospital: string, through: number, now: number, purgeAfter: number) =>
      acknowledge.run({ hospital, through, now, purgeAfter }).changes,
    purgeDue: (now: number) =>
      purgeDue.all({ now }) as Array<Pick<DecisionRow, 'cursor' | 'decision_id' | 'transfer_id' | 'hospital_id' | 'insurer_id'>>,
    forTransfer: (id: string) => forTransfer.all(id) as DecisionRow[],
    latestForTransfer: (id: string) => latest.get(id) as DecisionRow | undefined,
    get: (insurerId: string, decisionId: string) => byId.get(insurerId, decisionId) as DecisionRow | undefined,
    forHospital: (hospital: string, after: number, limit: number) => forHospital.all(hospital, after, limit) as DecisionRow[],
    timings: (since: number, until: number, insurer: string) => timings.all({ since, until, insurer }) as TimingRow[],
  };
}
