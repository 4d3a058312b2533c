/**
 * The audit log on PostgreSQL: appends under the log head's row lock, committed-state queries over
 * event_json (../../audit/query.ts's filters, through schema.ts's expression indexes), and checkpoints.
 */
import type { AuditFilter, AuditRow, SignedCheckpoint } from '../rows.js';
import type { AppendedEvent, AuditReads, CheckpointReads, LogHead, SequencedEvent } from '../store.js';
import type { Queryable } from './connect.js';
import { eventField } from './schema.js';
import { treeReads } from './tree.js';

/**
 * Locks the head (held to COMMIT: another replica's append waits, so seqs commit in order and chain),
 * builds the event on it, inserts it and advances the head. Within one transaction, the head already
 * carries the earlier appends.
 */
export async function appendEvent(q: Queryable, build: (head: LogHead) => SequencedEvent): Promise<AppendedEvent> {
  const head = (await q.query<{ seq: number; prev: Buffer | null }>('SELECT next_seq AS seq, prev FROM audit_head FOR UPDATE')).rows[0]!;
  const event = build(head);
  if (event.seq !== head.seq) throw new Error('audit event built for another position in the log');
  await q.query(
    `WITH e AS (INSERT INTO audit_events (seq, at, action, actor, consent_id, transfer_id, patient_ref, parties, event_json, leaf_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))
     UPDATE audit_head SET next_seq = $1 + 1, prev = $10`,
    [event.seq, event.at, event.action, event.actor, event.consent, event.transfer, event.patient, event.parties, event.json, event.leaf],
  );
  return { seq: event.seq, leafHash: event.leaf };
}

const ROW = 'seq, event_json, leaf_hash';

function page(q: Queryable, filter: AuditFilter, limit: number): Promise<{ rows: AuditRow[] }> {
  const params: unknown[] = [filter.afterSeq];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['seq > $1'];
  if (filter.untilSeq !== undefined) where.push(`seq <= ${param(filter.untilSeq)}`);
  // `at` is an ISO 8601 instant with milliseconds (toISOString): bytewise ("C") order is time order.
  if (filter.since !== undefined) where.push(`${eventField('at')} >= ${param(new Date(filter.since).toISOString())}`);
  if (filter.until !== undefined) where.push(`${eventField('at')} < ${param(new Date(filter.until).toISOString())}`);
  if (filter.partyId) {
    const party = param(filter.partyId);
    where.push(`(${eventField('actor')} = ${party} OR (event_json::jsonb -> 'parties') ? ${party})`);
  }
  if (filter.action) where.push(`${eventField('action')} = ${param(filter.action)}`);
  if (filter.consentId) where.push(`${eventField('consent')} = ${param(filter.consentId)}`);
  if (filter.transferId) where.push(`${eventField('transfer')} = ${param(filter.transferId)}`);
  if (filter.patientRef) where.push(`${eventField('patient')} = ${param(filter.patientRef)}`);
  return q.query<AuditRow>(`SELECT ${ROW} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${param(limit)}`, params);
}

function checkpointReads(q: Queryable): CheckpointReads {
  return {
    async latest() {
      const { rows } = await q.query<{ tree_size: number; root_hash: Buffer; note: string }>(
        'SELECT tree_size, root_hash, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1',
      );
      const row = rows[0];
      return row && { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note };
    },
    async latestSignedAt() {
      return (await q.query<{ at: number | null }>('SELECT max(signed_at) AS at FROM checkpoints')).rows[0]!.at ?? undefined;
    },
  };
}

/** Stores the checkpoint unless one of its size exists; returns the stored one (tree_size is the key). */
export async function putCheckpoint(q: Queryable, checkpoint: SignedCheckpoint, signedAt: number): Promise<SignedCheckpoint> {
  await q.query('INSERT INTO checkpoints (tree_size, root_hash, note, signed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING', [
    checkpoint.treeSize, checkpoint.rootHash, checkpoint.note, signedAt,
  ]);
  const row = (await q.query<{ tree_size: number; root_hash: Buffer; note: string }>(
    'SELECT tree_size, root_hash, note FROM checkpoints WHERE tree_size = $1',
    [checkpoint.treeSize],
  )).rows[0]!;
  return { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note };
}

export function auditReads(q: Queryable): AuditReads {
  return {
    async size() {
      return (await q.query<{ seq: number }>('SELECT next_seq AS seq FROM audit_head')).rows[0]!.seq;
    },
    async get(seq) {
      return (await q.query<AuditRow>(`SELECT ${ROW} FROM audit_events WHERE seq = $1`, [seq])).rows[0];
    },
    async range(start, limit) {
      return (await q.query<AuditRow>(`SELECT ${ROW} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2`, [start, limit])).rows;
    },
    async page(filter, limit) {
      return (await page(q, filter, limit)).rows;
    },
    async forTransfer(transferId, submissionId, beforeSeq) {
      return (await q.query<Pick<AuditRow, 'seq' | 'event_json'>>(
        `SELECT seq, event_json FROM audit_events WHERE seq < $1 AND (${eventField('transfer')} = $2
           OR (${eventField('action')} = 'record.submit' AND (event_json::jsonb ->> 'submission') = $3))
         ORDER BY seq`,
        [beforeSeq, transferId, submissionId],
      )).rows;
    },
    tree: treeReads(q),
    checkpoints: checkpointReads(q),
  };
}
