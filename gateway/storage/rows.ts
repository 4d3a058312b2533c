/**
 * The rows the storage engines hand to the domain, shared by both engines (SQLite and PostgreSQL) and by
 * the Store interface (store.ts). Times are integers of ms since the epoch and come back as JS numbers
 * (PostgreSQL's engine parses int8 as a number); blobs are Buffers.
 */
import type { Party } from '../context.js';

export interface ConsentRow {
  consent_id: string;
  patient_key: Buffer;
  insurer_id: string;
  policy_sealed: Buffer;
  purpose: string;
  categories: string;
  any_hospital: number;
  hospitals: string;
  valid_from: number;
  valid_until: number;
  capture: string;
  terms_digest: string;
  recorded_by: string;
  recorded_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

export type ConsentViewer = Pick<Party, 'id' | 'role'>;

export interface ListFilter {
  /** Only consents this party may read (see VISIBLE_TO_VIEWER). */
  viewer: ConsentViewer;
  patientKey?: Buffer;
  insurerId?: string;
  activeAt?: number;
  afterRecordedAt: number;
  afterId: string;
  limit: number;
}

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
  acknowledged_at: number | null;
  purge_after: number | null;
  purged_at: number | null;
}

/** One transfer's timers and what decides its service window. Times are ms since the epoch. */
export interface TimingRow {
  transfer_id: string;
  insurer_id: string;
  purpose: string;
  encounter_class: string;
  state: string;
  submitted_at: number;
  delivered_at: number | null;
  acknowledged_at: number | null;
  decided_at: number | null;
}

export interface AuditFilter {
  since?: number;
  until?: number;
  partyId?: string;
  action?: string;
  consentId?: string;
  transferId?: string;
  patientRef?: string;
  afterSeq: number;
  untilSeq?: number;
}

export interface AuditRow {
  seq: number;
  event_json: string;
  leaf_hash: Buffer;
}

export interface SignedCheckpoint {
  treeSize: number;
  rootHash: Buffer;
  note: string;
}
