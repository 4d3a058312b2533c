/** Submission and transfer rows, and the delivery queue's leasing queries. */
import type { Db } from './db.js';

export interface SubmissionRow {
  submission_id: string;
  hospital_id: string;
  bundle_digest: string;
  purpose: string;
  encounter_class: string;
  service_start: number;
  service_end: number;
  signature: string | null;
  accepted_at: number;
}

export type TransferState = 'pending' | 'delivered' | 'acknowledged' | 'withheld' | 'decided';

export interface TransferRow {
  transfer_id: string;
  submission_id: string;
  insurer_id: string;
  consent_id: string;
  pseudonym: string;
  patient_ref: string;
  envelope: string;
  envelope_digest: string;
  payload: string | null;
  state: TransferState;
  created_at: number;
  lease_expires_at: number | null;
  delivery_attempts: number;
  delivered_at: number | null;
  acknowledged_at: number | null;
  receipt: string | null;
  withheld_at: number | null;
  decided_at: number | null;
  purge_after: number | null;
  purged_at: number | null;
}

export function submissionRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO submissions VALUES (@submission_id, @hospital_id, @bundle_digest, @purpose,
    @encounter_class, @service_start, @service_end, @signature, @accepted_at)`);
  const byId = db.prepare('SELECT * FROM submissions WHERE submission_id = ?');
  return {
    insert: (row: SubmissionRow) => void insert.run(row),
    get: (id: string) => byId.get(id) as SubmissionRow | undefined,
  };
}

export function transferRepository(db: Db) {
  const insert = db.prepare(`INSERT INTO transfers (transfer_id, submission_id, insurer_id, consent_id, pseudonym,
    patient_ref, envelope, envelope_digest, payload, state, created_at)
    VALUES (@transfer_id, @submission_id, @insurer_id, @consent_id, @pseudonym, @patient_ref, @envelope,
    @envelope_digest, @payload, 'pending', @created_at)`);
  const byId = db.prepare('SELECT * FROM transfers WHERE transfer_id = ?');
  const bySubmission = db.prepare('SELECT * FROM transfers WHERE submission_id = ? ORDER BY transfer_id');
  // Ready: never delivered, or delivered and the lease ran out without an acknowledgement.
  // Two index range scans (insurer, state[, lease]) instead of one OR that scans every transfer of the
  // insurer; only the ready rows are sorted.
  const ready = db.prepare(`SELECT * FROM (
      SELECT * FROM transfers WHERE insurer_id = @insurer AND state = 'pending'
      UNION ALL
      SELECT * FROM transfers WHERE insurer_id = @insurer AND state = 'delivered' AND lease_expires_at <= @now
    ) ORDER BY created_at, transfer_id LIMIT @limit`);
  const nextLeaseExpiry = db.prepare(
    `SELECT MIN(lease_expires_at) AS at FROM transfers WHERE insurer_id = ? AND state = 'delivered'`,
  );
  const lease = db.prepare(`UPDATE transfers SET state = 'delivered', lease_expires_at = @until,
    delivery_attempts = delivery_attempts + 1, delivered_at = COALESCE(delivered_at, @now) WHERE transfer_id = @id`);
  const acknowledge = db.prepare(`UPDATE transfers SET state = 'acknowledged', acknowledged_at = @now,
    receipt = @receipt, lease_expires_at = NULL, purge_after = @purgeAfter WHERE transfer_id = @id AND state = 'delivered'`);
  const withholdForConsent = db.prepare(`UPDATE transfers SET state = 'withheld', withheld_at = @now,
    lease_expires_at = NULL, payload = NULL WHERE consent_id = @consent AND state IN ('pending', 'delivered')
    RETURNING transfer_id, insurer_id, patient_ref`);
  // A decision proves receipt: end the lease, and start the ciphertext's retention if no ack did.
  const markDecided = db.prepare(`UPDATE transfers SET state = 'decided', decided_at = COALESCE(decided_at, @now),
    lease_expires_at = NULL, purge_after = COALESCE(purge_after, @purgeAfter) WHERE transfer_id = @id`);
  const purgeDue = db.prepare(`UPDATE transfers SET payload = NULL, purged_at = @now
    WHERE purge_after IS NOT NULL AND purge_after <= @now AND purged_at IS NULL RETURNING transfer_id, insurer_id, patient_ref`);
  return {
    insert: (row: Pick<TransferRow, 'transfer_id' | 'submission_id' | 'insurer_id' | 'consent_id' | 'pseudonym' |
      'patient_ref' | 'envelope' | 'envelope_digest' | 'payload' | 'created_at'>) => void insert.run(row),
    get: (id: string) => byId.get(id) as TransferRow | undefined,
    forSubmission: (id: string) => bySubmission.all(id) as TransferRow[],
    ready: (insurer: string, now: number, limit: number) => ready.all({ insurer, now, limit }) as TransferRow[],
    nextLeaseExpiry: (insurer: string) => (nextLeaseExpiry.get(insurer) as { at: number | null }).at,
    lease: (id: string, now: number, until: number) => void lease.run({ id, now, until }),
    acknowledge: (id: string, now: number, receipt: string, purgeAfter: number) =>
      acknowledge.run({ id, now, receipt, purgeAfter }).changes === 1,
    withholdForConsent: (consent: string, now: number) =>
      withholdForConsent.all({ consent, now }) as Array<{ transfer_id: string; insurer_id: string; patient_ref: string }>,
    markDecided: (id: string, now: number, purgeAfter: number) => void markDecided.run({ id, now, purgeAfter }),
    purgeDue: (now: number) => purgeDue.all({ now }) as Array<{ transfer_id: string; insurer_id: string; patient_ref: string }>,
  };
}
