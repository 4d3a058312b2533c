/** Submissions, transfers and the delivery queue on PostgreSQL (../transfers.ts's statements). */
import type { LeasedRow, NewTransfer, TouchedTransfer } from '../store.js';
import type { SubmissionRow, TransferRow } from '../rows.js';
import type { Queryable } from './connect.js';

export function submissionStatements(q: Queryable) {
  return {
    async insert(row: SubmissionRow): Promise<void> {
      await q.query('INSERT INTO submissions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        row.submission_id, row.hospital_id, row.bundle_digest, row.purpose, row.encounter_class,
        row.service_start, row.service_end, row.signature, row.accepted_at,
      ]);
    },
    async get(id: string): Promise<SubmissionRow | undefined> {
      return (await q.query<SubmissionRow>('SELECT * FROM submissions WHERE submission_id = $1', [id])).rows[0];
    },
  };
}

const byQueueOrder = (a: TransferRow, b: TransferRow) =>
  a.created_at - b.created_at || (a.transfer_id < b.transfer_id ? -1 : a.transfer_id > b.transfer_id ? 1 : 0);

/** The ciphertext goes with withholding and purging; the rows stay for the audit's sake. */
const DROP_PAYLOADS = `DELETE FROM transfer_payloads p USING touched WHERE p.transfer_id = touched.transfer_id`;

export function transferStatements(q: Queryable) {
  return {
    async insert(row: NewTransfer): Promise<void> {
      await q.query(
        `WITH t AS (INSERT INTO transfers (transfer_id, submission_id, insurer_id, consent_id, pseudonym, patient_ref,
            envelope, envelope_digest, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9))
         INSERT INTO transfer_payloads (transfer_id, payload) VALUES ($1, $10)`,
        [row.transfer_id, row.submission_id, row.insurer_id, row.consent_id, row.pseudonym, row.patient_ref,
          row.envelope, row.envelope_digest, row.created_at, row.payload],
      );
    },
    async get(id: string): Promise<TransferRow | undefined> {
      return (await q.query<TransferRow>('SELECT * FROM transfers WHERE transfer_id = $1', [id])).rows[0];
    },
    async payload(id: string): Promise<string | undefined> {
      return (await q.query<{ payload: string }>('SELECT payload FROM transfer_payloads WHERE transfer_id = $1', [id])).rows[0]?.payload;
    },
    async forSubmission(id: string): Promise<TransferRow[]> {
      return (await q.query<TransferRow>('SELECT * FROM transfers WHERE submission_id = $1 ORDER BY transfer_id', [id])).rows;
    },
    async nextLeaseExpiry(insurer: string): Promise<number | null> {
      const sql = `SELECT min(lease_expires_at) AS at FROM transfers WHERE insurer_id = $1 AND state = 'delivered'`;
      return (await q.query<{ at: number | null }>(sql, [insurer])).rows[0]!.at;
    },
    async queue(): Promise<Array<{ insurer: string; depth: number; oldest: number }>> {
      return (await q.query<{ insurer: string; depth: number; oldest: number }>(
        `SELECT insurer_id AS insurer, count(*) AS depth, min(created_at) AS oldest FROM transfers WHERE state = 'pending' GROUP BY insurer_id`,
      )).rows;
    },
    /**
     * Picks and leases in one statement. FOR UPDATE SKIP LOCKED: a row another replica's transaction is
     * leasing right now is passed over, never waited for nor leased twice; the re-check of the state after
     * the lock (READ COMMITTED re-evaluates the WHERE on the locked row) drops a row leased meanwhile.
     */
    async leaseReady(insurer: string, now: number, until: number, limit: number): Promise<LeasedRow[]> {
      const { rows } = await q.query<LeasedRow>(
        `WITH picked AS (
           SELECT transfer_id FROM transfers
           WHERE insurer_id = $1 AND (state = 'pending' OR (state = 'delivered' AND lease_expires_at <= $2))
           ORDER BY created_at, transfer_id LIMIT $4
           FOR UPDATE SKIP LOCKED)
         UPDATE transfers t SET state = 'delivered', lease_expires_at = $3,
           delivery_attempts = t.delivery_attempts + 1, delivered_at = COALESCE(t.delivered_at, $2)
         FROM picked WHERE t.transfer_id = picked.transfer_id
         RETURNING t.*, (SELECT payload FROM transfer_payloads p WHERE p.transfer_id = t.transfer_id) AS payload`,
        [insurer, now, until, limit],
      );
      return rows.sort(byQueueOrder);
    },
    async acknowledge(id: string, now: number, receipt: string, purgeAfter: number): Promise<boolean> {
      const result = await q.query(
        `UPDATE transfers SET state = 'acknowledged', acknowledged_at = $2, receipt = $3, lease_expires_at = NULL,
           purge_after = $4 WHERE transfer_id = $1 AND state = 'delivered'`,
        [id, now, receipt, purgeAfter],
      );
      return result.rowCount === 1;
    },
    async withholdForConsent(consentId: string, now: number): Promise<TouchedTransfer[]> {
      return (await q.query<TouchedTransfer>(
        `WITH touched AS (UPDATE transfers SET state = 'withheld', withheld_at = $2, lease_expires_at = NULL
           WHERE consent_id = $1 AND state IN ('pending', 'delivered') RETURNING transfer_id, insurer_id, patient_ref),
         dropped AS (${DROP_PAYLOADS})
         SELECT * FROM touched ORDER BY transfer_id`,
        [consentId, now],
      )).rows;
    },
    async markDecided(id: string, now: number, purgeAfter: number): Promise<void> {
      await q.query(
        `UPDATE transfers SET state = 'decided', decided_at = COALESCE(decided_at, $2), lease_expires_at = NULL,
           purge_after = COALESCE(purge_after, $3) WHERE transfer_id = $1`,
        [id, now, purgeAfter],
      );
    },
    async purgeDue(now: number): Promise<TouchedTransfer[]> {
      return (await q.query<TouchedTransfer>(
        `WITH touched AS (UPDATE transfers SET purged_at = $1
           WHERE purge_after IS NOT NULL AND purge_after <= $1 AND purged_at IS NULL RETURNING transfer_id, insurer_id, patient_ref),
         dropped AS (${DROP_PAYLOADS})
         SELECT * FROM touched ORDER BY transfer_id`,
        [now],
      )).rows;
    },
  };
}
