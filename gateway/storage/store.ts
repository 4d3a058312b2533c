/**
 * The storage interface the domain speaks to; SQLite (gateway/storage/sqlite/, the embedded default) and
 * PostgreSQL (gateway/storage/postgres/, for replicas) implement it. Types only.
 *
 * Why it looks like this:
 * - **Asynchronous.** node-postgres is; SQLite's engine answers with settled promises. The domain awaits
 *   every call and never assumes a call completes synchronously.
 * - **Group commit is part of the contract, not an engine detail.** `transaction(fn)` queues `fn`; the engine
 *   runs the queued items one after another inside ONE database transaction, each in its own savepoint (an
 *   item that throws rolls back alone), and resolves every item only after that transaction COMMITs
 *   durably. One batch = one transaction = one fsync (SQLite synchronous=FULL, PostgreSQL
 *   synchronous_commit=on). Items in a batch see the writes of the items before them and nothing else; they
 *   must therefore be short and must not wait on anything but their `tx` (no network, no signing): those
 *   happen before `transaction` is called.
 * - **Reads outside a transaction see committed state only** (`reads`), never a pending batch's writes, so
 *   nothing is answered from a write that could still roll back. SQLite serves them from a second,
 *   read-only connection (WAL); PostgreSQL from the pool.
 * - **Correct with several gateway replicas on one PostgreSQL.** What must hold across replicas is decided
 *   by the database, not by memory in one process:
 *   · idempotency: the (party, method, key) primary key; a racing second insert fails with
 *     IdempotencyKeyTaken and its item rolls back; the caller then replays the first answer;
 *   · the delivery queue: `leaseReady` picks and leases in one statement (PostgreSQL: `FOR UPDATE SKIP
 *     LOCKED`), so one transfer is never leased to two pullers at once;
 *   · the audit log: sequence-then-integrate, after Tessera. `tx.audit.append` lets the engine assign seq
 *     and prev under a row lock on a one-row log head (PostgreSQL: `SELECT … FROM audit_head FOR UPDATE`,
 *     held to COMMIT), so every replica's events form one hash chain in commit order. The Merkle nodes and
 *     the signed checkpoints are written by one leader (`log`: PostgreSQL: an advisory lock, taken over when
 *     the leader dies) that integrates the sequenced events afterwards. SQLite has one writer, so its
 *     append integrates at once and its `log.integrate` has nothing left to do;
 *   · decision cursors: a hospital's stream reads `cursor > c`, so a cursor must never become visible
 *     after a larger one of the same hospital did (PostgreSQL: assign it under the same log-head lock, or
 *     another lock held to commit; a sequence alone is not enough);
 *   · wake-ups: `Notifier` (PostgreSQL: LISTEN/NOTIFY) reaches every replica; `tx.notify` is delivered
 *     only if the item commits.
 * - **Backups are per engine**: SQLite's online backup of the file (gateway/backup.ts), PostgreSQL's own
 *   tools; either copy is verified the same way, by re-hashing its events into its latest checkpoint.
 */
import type { AuditEventInput } from '../audit/events.js';
import type { PackedPage } from '../audit/packed-events.js';
import type {
  AuditFilter,
  AuditRow,
  ConsentRow,
  ConsentViewer,
  DecisionRow,
  ListFilter,
  SignedCheckpoint,
  SubmissionRow,
  TimingRow,
  TransferRow,
} from './rows.js';

export type {
  AuditFilter,
  AuditRow,
  ConsentRow,
  ConsentViewer,
  DecisionRow,
  ListFilter,
  SignedCheckpoint,
  SubmissionRow,
  TimingRow,
  TransferRow,
} from './rows.js';

export type Engine = 'sqlite' | 'postgres';

export interface Store {
  readonly engine: Engine;
  /**
   * Runs `fn` in the next group-committed batch (see the header). Resolves with `fn`'s value after the
   * batch's durable COMMIT; rejects with `fn`'s error (its savepoint rolled back, the others commit) or with
   * the batch's error if the COMMIT itself failed (then every item of the batch rejects).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Committed state only. */
  readonly reads: StoreReads;
  /** Wake-ups, in this process and (PostgreSQL) across replicas. */
  readonly notifier: Notifier;
  /** The audit log's integration and checkpoints: the leader's work. */
  readonly log: LogSequencer;
  /** Finishes the batch in progress, then closes every connection. */
  close(): Promise<void>;
}

/** What an item in a batch may do. Reads here see the batch's earlier writes. */
export interface StoreTx {
  readonly consents: ConsentWrites;
  readonly idempotency: IdempotencyWrites;
  readonly submissions: SubmissionWrites;
  readonly transfers: TransferWrites;
  readonly decisions: DecisionWrites;
  readonly audit: AuditWrites;
  /** Delivered to subscribers after COMMIT, and never if this item rolls back. */
  notify(channel: Channel, payload?: string): void;
}

export interface StoreReads {
  readonly consents: ConsentReads;
  readonly idempotency: IdempotencyReads;
  readonly submissions: SubmissionReads;
  readonly transfers: TransferReads;
  readonly decisions: DecisionReads;
  readonly audit: AuditReads;
  /** Readiness: resolves if the database answers. */
  ping(): Promise<void>;
}

// ---- consents ----

export interface ConsentReads {
  /** Any consent, for the gateway's own use (coverage, replies); never for answering a caller's read. */
  get(id: string): Promise<ConsentRow | undefined>;
  /** The consent if `viewer` may read it; undefined whether it is missing or not theirs. */
  visibleTo(viewer: ConsentViewer, id: string): Promise<ConsentRow | undefined>;
  /** In recording order (ties in insertion order), so callers can take the latest. */
  unrevokedForPatient(patientKey: Buffer): Promise<ConsentRow[]>;
  /** Paged by (recorded_at, consent_id), visible to `filter.viewer` only. */
  list(filter: ListFilter): Promise<ConsentRow[]>;
}

export interface ConsentWrites extends Pick<ConsentReads, 'get'> {
  insert(row: Omit<ConsentRow, 'revoked_at' | 'revoked_by'>): Promise<void>;
  /** True if this call revoked it (false: already revoked or missing). */
  revoke(id: string, at: number, by: string): Promise<boolean>;
}

// ---- idempotency ----

export interface IdempotencyReads {
  /** The stored response for a replay, undefined for a new key; throws Conflict on a reused key. */
  lookup<T>(partyId: string, method: string, key: string, requestDigest: string): Promise<T | undefined>;
}

export interface IdempotencyWrites extends IdempotencyReads {
  /**
   * Stores the first answer under the key. Throws IdempotencyKeyTaken (gateway/errors.ts; SQLite: SQLITE_CONSTRAINT_PRIMARYKEY, PostgreSQL: 23505) if another
   * transaction committed the same key first (the database's unique key decides, across replicas).
   */
  remember(partyId: string, method: string, key: string, requestDigest: string, response: unknown, at: number): Promise<void>;
}

// ---- submissions and transfers (the delivery queue) ----

export interface SubmissionReads {
  get(id: string): Promise<SubmissionRow | undefined>;
}

export interface SubmissionWrites extends SubmissionReads {
  insert(row: SubmissionRow): Promise<void>;
}

export type NewTransfer = Pick<
  TransferRow,
  'transfer_id' | 'submission_id' | 'insurer_id' | 'consent_id' | 'pseudonym' | 'patient_ref' | 'envelope' | 'envelope_digest' | 'created_at'
> & { payload: string };

/** A transfer as `leaseReady` left it: state 'delivered', the new lease and attempt count, and its JWE. */
export type LeasedRow = TransferRow & { payload: string | null };

/** What withholding or purging touched, for the audit events. */
export interface TouchedTransfer {
  transfer_id: string;
  insurer_id: string;
  patient_ref: string;
}

export interface TransferReads {
  get(id: string): Promise<TransferRow | undefined>;
  /** The JWE, or undefined once withheld or purged. */
  payload(id: string): Promise<string | undefined>;
  forSubmission(submissionId: string): Promise<TransferRow[]>;
  /** The earliest lease expiry among the insurer's delivered transfers, or null (the puller's next wake-up). */
  nextLeaseExpiry(insurer: string): Promise<number | null>;
  /** Pending transfers per insurer (metrics). */
  queue(): Promise<Array<{ insurer: string; depth: number; oldest: number }>>;
}

export interface TransferWrites extends Pick<TransferReads, 'get'> {
  insert(row: NewTransfer): Promise<void>;
  /**
   * Picks up to `limit` of the insurer's ready transfers — never delivered, or delivered with the lease run
   * out (`lease_expires_at <= now`) — in queue order (created_at, transfer_id), and leases them until
   * `until` in the same statement: state 'delivered', delivery_attempts + 1, delivered_at kept if set.
   * Rows another transaction holds are skipped, not waited for (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  leaseReady(insurer: string, now: number, until: number, limit: number): Promise<LeasedRow[]>;
  /** True if it was delivered and is now acknowledged (false: in another state). Starts the retention. */
  acknowledge(id: string, now: number, receipt: string, purgeAfter: number): Promise<boolean>;
  /** Withholds every pending or delivered transfer of the consent and drops their ciphertext. */
  withholdForConsent(consentId: string, now: number): Promise<TouchedTransfer[]>;
  /** A decision proves receipt: ends the lease and starts the retention if no acknowledgement did. */
  markDecided(id: string, now: number, purgeAfter: number): Promise<void>;
  /** Drops the ciphertext whose retention has passed. */
  purgeDue(now: number): Promise<TouchedTransfer[]>;
}

// ---- decisions ----

export type NewDecision = Omit<DecisionRow, 'cursor' | 'acknowledged_at' | 'purge_after' | 'purged_at'>;

export interface DecisionReads {
  get(insurerId: string, decisionId: string): Promise<DecisionRow | undefined>;
  forTransfer(transferId: string): Promise<DecisionRow[]>;
  latestForTransfer(transferId: string): Promise<DecisionRow | undefined>;
  /** The hospital's unpurged decisions after `after`, in cursor order (see the header on cursors). */
  forHospital(hospitalId: string, after: number, limit: number): Promise<DecisionRow[]>;
  /** Transfers submitted in [since, until), optionally of one insurer ('' for all), for service levels. */
  timings(since: number, until: number, insurer: string): Promise<TimingRow[]>;
}

export interface DecisionWrites extends Pick<DecisionReads, 'get' | 'latestForTransfer'> {
  /** Returns the decision's cursor. */
  insert(row: NewDecision): Promise<number>;
  /** Marks the hospital's decisions through `through` acknowledged; returns how many were new. */
  acknowledge(hospitalId: string, through: number, now: number, purgeAfter: number): Promise<number>;
  purgeDue(now: number): Promise<Array<Pick<DecisionRow, 'cursor' | 'decision_id' | 'transfer_id' | 'hospital_id' | 'insurer_id'>>>;
}

// ---- the audit log ----

/** Where the log ends: the next event's seq and the last event's leaf hash (null when empty). */
export interface LogHead {
  seq: number;
  prev: Buffer | null;
}

/** A fully formed event row: canonical JSON, its leaf hash and the search copies (gateway/audit/log.ts). */
export interface SequencedEvent {
  seq: number;
  at: number;
  json: string;
  leaf: Buffer;
  action: AuditEventInput['action'];
  actor: string;
  consent: string | null;
  transfer: string | null;
  patient: string | null;
  /** Space-separated party ids: the actor and the parties. */
  parties: string;
}

export interface AppendedEvent {
  seq: number;
  leafHash: Buffer;
}

export interface AuditWrites {
  /**
   * Appends one event: the engine locks the log head, calls `build` (pure, synchronous: it hashes the
   * event with the head's seq and prev), inserts the row and advances the head. `build(head).seq` must be
   * `head.seq`. Events of one transaction get consecutive seqs in call order.
   */
  append(build: (head: LogHead) => SequencedEvent): Promise<AppendedEvent>;
}

export interface AuditReads {
  /** Committed events (sequenced; may be ahead of the tree until the leader integrates). */
  size(): Promise<number>;
  get(seq: number): Promise<AuditRow | undefined>;
  /** Events with seq ≥ start, in order. */
  range(start: number, limit: number): Promise<AuditRow[]>;
  /**
   * Optional: events [start, start + limit) packed by the engine (gateway/audit/packed-events.ts), or
   * undefined if there are none or they are not consecutive; the caller checks the rest
   * (`isWholePage`). Without it, `range`'s rows are packed.
   */
  packedRange?(start: number, limit: number): Promise<PackedPage | undefined>;
  /** A page of a filtered query (gateway/audit/query.ts), seq > afterSeq, in order. */
  page(filter: AuditFilter, limit: number): Promise<AuditRow[]>;
  /** The events before `beforeSeq` that name the transfer, and the submission's record.submit event. */
  forTransfer(transferId: string, submissionId: string, beforeSeq: number): Promise<Array<Pick<AuditRow, 'seq' | 'event_json'>>>;
  /** The integrated Merkle tree (RFC 9162), as of the last committed integration. */
  readonly tree: TreeReads;
  readonly checkpoints: CheckpointReads;
}

export interface TreeReads {
  /** Leaves integrated so far (≤ audit size). */
  size(): Promise<number>;
  /** Root of the first `size` leaves (default: all integrated). */
  root(size?: number): Promise<Buffer>;
  inclusionProof(index: number, size: number): Promise<Buffer[]>;
  consistencyProof(size1: number, size2: number): Promise<Buffer[]>;
  /**
   * The stored subtree hashes completed as the tree grew from `fromSize` to `toSize` leaves (every
   * (level, index) with fromSize < (index + 1)·2^level ≤ toSize), as runs of consecutive nodes of one
   * level (32 bytes each in `hashes`, from index `first`), by level then index; a missing one is left out
   * (the run breaks there). The officer's tool compares them with what it recomputes.
   */
  nodes(fromSize: number, toSize: number): Promise<Array<{ level: number; first: number; hashes: Buffer }>>;
}

export interface CheckpointReads {
  latest(): Promise<SignedCheckpoint | undefined>;
  /** When the latest was signed (ms), for the checkpoint-age metric. */
  latestSignedAt(): Promise<number | undefined>;
}

/**
 * The leader's work (sequence-then-integrate). Exactly one process at a time integrates and signs; the
 * others sequence only. SQLite (one process) always leads.
 */
export interface LogSequencer {
  /** Tries to become (or stay) the leader; true while this process holds the lease. */
  lead(): Promise<boolean>;
  /** Integrates sequenced events into the Merkle tree; returns the integrated size. Leader only. */
  integrate(): Promise<number>;
  /**
   * Stores a signed checkpoint unless one of that size exists, and returns the stored one: two
   * checkpoints of one size with different roots can never both exist (tree_size is the key). Leader only;
   * the caller proves consistency with `reads.audit.checkpoints.latest()` before signing.
   */
  putCheckpoint(checkpoint: SignedCheckpoint, signedAt: number): Promise<SignedCheckpoint>;
}

// ---- wake-ups ----

/**
 * `transfer:<insurer>` (new transfers for a puller), `decision:<hospital>` (a decision for its stream),
 * `audit` (the log grew: payload is the committed size), `registry` (reload the party registry).
 */
export type Channel = `transfer:${string}` | `decision:${string}` | 'audit' | 'registry';

export interface Notifier {
  /** Tells subscribers here and (PostgreSQL) on every replica. Best effort: subscribers also poll. */
  publish(channel: Channel, payload?: string): void;
  /** Returns the unsubscribe function. */
  subscribe(channel: Channel, listener: (payload: string) => void): () => void;
  /** Subscribers in this process (tests check that streams unsubscribe). */
  listenerCount(channel: Channel): number;
}

export interface StoreOptions {
  /** The gateway's data folder (SQLite: gateway.db lives here). */
  dataDir: string;
  /** PostgreSQL: where the exchange's database is (engine-specific options go here). */
  postgres?: { connectionString: string };
  /** Metrics: each batch's size and seconds from its start to COMMIT. */
  onBatch?: (size: number, seconds: number) => void;
  /** Largest batch (default 256). */
  maxBatch?: number;
}

/** What the server, the harness and the CLI open an engine with. */
export type StoreFactory = (options: StoreOptions) => Promise<Store>;
