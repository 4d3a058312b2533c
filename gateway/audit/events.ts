/**
 * What an audit event may say. Events hold ids, pseudonymous references, digests, counts and
 * outcomes — never health data or identifiers — and are stored as RFC 8785 canonical JSON, which is
 * exactly what the Merkle leaf hashes.
 */
export type AuditAction =
  | 'consent.grant'
  | 'consent.revoke'
  | 'record.submit'
  | 'record.deny'
  | 'transfer.create'
  | 'transfer.deliver'
  | 'transfer.acknowledge'
  | 'transfer.withhold'
  | 'transfer.skip'
  | 'transfer.purge'
  | 'decision.record'
  | 'decision.refuse'
  | 'decision.acknowledge'
  | 'decision.purge'
  | 'audit.query'
  | 'key.rotate'
  | 'registry.reload';

export type AuditOutcome = 'ok' | 'denied' | 'refused';

/** A detail value: scalars and lists of scalars only, so no record fragment can slip in. */
export type AuditDetail = string | number | boolean | string[] | Record<string, number>;

export interface AuditEventInput {
  action: AuditAction;
  /** Party id of whoever caused the event ("gateway" for the gateway's own work). */
  actor: string;
  outcome: AuditOutcome;
  consent?: string;
  submission?: string;
  transfer?: string;
  decision?: string;
  /** Patient reference: the keyed index hash, base64url — never the ID itself. */
  patient?: string;
  /** Every party the event concerns besides the actor (e.g. the recipient insurer). */
  parties?: string[];
  details?: Record<string, AuditDetail>;
}

/** The stored event: the input plus its place in the log. `prev` chains each event to the last. */
export interface AuditEvent extends AuditEventInput {
  v: 1;
  seq: number;
  at: string;
  /** base64 leaf hash of the previous event; "" for the first. */
  prev: string;
}
