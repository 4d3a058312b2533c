/** Settlement decisions, in arrival order; the cursor lets a hospital's stream resume exactly. */
import type { Db } from './db.js';

export interface DecisionRow {
  cursor: number;
  decision_id: string;
  transfer_id: string;
  submission_id: string;
  hospital_id: string;
  insurer_id: string;
  revision_of: string | null;
  outcome: string;
  decision: string;
  decision_digest: string;
  recorded_at: number;
}

export function decisionRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO decisions (decision_id, transfer_id, submission_id, hospital_id, insurer_id,
    revision_of, outcome, decision, decision_digest, recorded_at) VALUES (@decision_id, @transfer_id, @submission_id,
    @hospital_id, @insurer_id, @revision_of, @outcome, @decision, @decision_digest, @recorded_at) RETURNING cursor`);
  const forTransfer = db.prepare('SELECT * FROM decisions WHERE transfer_id = ? ORDER BY cursor');
  const byId = db.prepare('SELECT * FROM decisions WHERE decision_id = ?');
  const forHospital = db.prepare('SELECT * FROM decisions WHERE hospital_id = ? AND cursor > ? ORDER BY cursor LIMIT ?');
  return {
    insert: (row: Omit<DecisionRow, 'cursor'>) => (insert.get(row) as { cursor: number }).cursor,
    forTransfer: (id: string) => forTransfer.all(id) as DecisionRow[],
    get: (id: string) => byId.get(id) as DecisionRow | undefined,
    forHospital: (hospital: string, after: number, limit: number) => forHospital.all(hospital, after, limit) as DecisionRow[],
  };
}
