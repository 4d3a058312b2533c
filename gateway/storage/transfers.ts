/** Submission and transfer rows, and the delivery queue's leasing queries. */
import type { Db } from './db.js';

export type { SubmissionRow, TransferRow, TransferState } from './rows.js';
import type { SubmissionRow, TransferRow } from './rows.js';

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
    patient_ref, envelope, envelope_digest, state, created_at)
    VALUES (@transfer_id, @submission_id, @insurer_id, @consent_id, @pseudonym, @patient_ref, @envelope,
    @envelope_digest, 'pending', @created_at)`);
  const insertPayload = db.prepare('INSERT INTO transfer_payloads (transfer_id, payload) VALUES (?, ?)');
  const payloadOf = db.prepare('SELECT payload FROM transfer_payloads WHERE transfer_id = ?').pluck();
  const deletePayload = db.prepare('DELETE FROM transfer_payloads WHERE transfer_id = ?');
  const byId = db.prepare('SELECT * FROM transfers WHERE transfer_id = ?');
  const bySubmission = db.prepare('SELECT * FROM transfers WHERE submission_id = ? ORDER BY transfer_id');
  // Ready: never delivered, or delivered and the lease ran out without an acknowledgement. Each branch
  // walks its own index in queue order and stops at the limit; only the chosen rows are read whole,
  // with their ciphertext (sorting whole rows of the backlog made each pull cost O(backlog)).
  const ready = db.prepare(`SELECT t.*, p.payload FROM (
      SELECT * FROM (SELECT transfer_id, created_at FROM transfers
        WHERE insurer_id = @insurer AND state = 'pending' ORDER BY created_at, transfer_id LIMIT @limit)
      UNION ALL
      SELECT * FROM (SELECT transfer_id, created_at FROM transfers
        WHERE insurer_id = @insurer AND state = 'delivered' AND lease_expires_at <= @now
        ORDER BY created_at, transfer_id LIMIT @limit)
      ORDER BY created_at, transfer_id LIMIT @limit
    ) AS r JOIN transfers AS t ON t.transfer_id = r.transfer_id
    LEFT JOIN transfer_payloads AS p ON p.transfer_id = r.transfer_id
    ORDER BY r.created_at, r.transfer_id`);
  const nextLeaseExpiry = db.prepare(
    `SELECT MIN(lease_expires_at) AS at FROM transfers WHERE insurer_id = ? AND state = 'delivered'`,
  );
  const lease = db.prepare(`UPDATE transfers SET state = 'delivered', lease_expires_at = @until,
    delivery_attempts = delivery_attempts + 1, delivered_at = COALESCE(delivered_at, @now) WHERE transfer_id = @id`);
  const acknowledge = db.prepare(`UPDATE transfers SET state = 'acknowledged', acknowledged_at = @now,
    receipt = @receipt, lease_expires_at = NULL, purge_after = @purgeAfter WHERE transfer_id = @id AND state = 'delivered'`);
  const withholdForConsent = db.prepare(`UPDATE transfers SET state = 'withheld', withheld_at = @now,
    lease_expires_at = NULL WHERE consent_id = @consent AND state IN ('pending', 'delivered')
    RETURNING transfer_id, insurer_id, patient_ref`);
  // A decision proves receipt: end the lease, and start the ciphertext's retention if no ack did.
  const markDecided = db.prepare(`UPDATE transfers SET state = 'decided', decided_at = COALESCE(decided_at, @now),
    lease_expires_at = NULL, purge_after = COALESCE(purge_after, @purgeAfter) WHERE transfer_id = @id`);
  const purgeDue = db.prepare(`UPDATE transfers SET purged_at = @now
    WHERE purge_after IS NOT NULL AND purge_after <= @now AND purged_at IS NULL RETURNING transfer_id, insurer_id, patient_ref`);
  const dropPayloads = <T extends { transfer_id: string }>(rows: T[]): T[] => {
    for (const row of rows) deletePayload.run(row.transfer_id);
    return rows;
  };
  return {
    insert: (row: Pick<TransferRow, 'transfer_id' | 'submission_id' | 'insurer_id' | 'consent_id' | 'pseudonym' |
      'patient_ref' | 'envelope' | 'envelope_digest' | 'created_at'> & { payload: string }) => {
      const { payload, ...transfer } = row;
      insert.run(transfer);
      insertPayload.run(row.transfer_id, payload);
    },
    /** The JWE, or undefined once withheld or purged. */
    payload: (id: string) => payloadOf.get(id) as string | undefined,
    get: (id: string) => byId.get(id) as TransferRow | undefined,
    forSubmission: (id: string) => bySubmission.all(id) as TransferRow[],
    ready: (insurer: string, now: number, limit: number) =>
      ready.all({ insurer, now, limit }) as Array<TransferRow & { payload: string | null }>,
    nextLeaseExpiry: (insurer: string) => (nextLeaseExpiry.get(insurer) as { at: number | null }).at,
    lease: (id: string, now: number, until: number) => void lease.run({ id, now, until }),
    acknowledge: (id: string, now: number, receipt: string, purgeAfter: number) =>
      acknowledge.run({ id, now, receipt, purgeAfter }).changes === 1,
    withholdForConsent: (consent: string, now: number) =>
      dropPayloads(withholdForConsent.all({ consent, now }) as Array<{ transfer_id: string; insurer_id: string; patient_ref: string }>),
    markDecided: (id: string, now: number, purgeAfter: number) => void markDecided.run({ id, now, purgeAfter }),
    purgeDue: (now: number) => dropPayloads(purgeDue.all({ now }) as Array<{ transfer_id: string; insurer_id: string; patient_ref: string }>),
  };
}
