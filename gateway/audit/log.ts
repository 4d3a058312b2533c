/**
 * The append-only audit log. `append` must run inside the caller's transaction, next to the state
 * change it describes: the event, its search columns and its Merkle tree nodes commit or roll back
 * together. Every event carries its predecessor's leaf hash (a hash chain); the Merkle tree over the
 * same leaves lets the regulator's tool prove inclusion and consistency without trusting us.
 */
import { canonicalJson } from '../../keys/canonical.js';
import { leafHash } from '../../keys/transparency/index.js';
import type { Db } from '../storage/db.js';
import { createTreeStore, type TreeStore } from './tree-store.js';
import type { AuditEvent, AuditEventInput } from './events.js';

export interface AppendedEvent {
  seq: number;
  leafHash: Buffer;
}

export class AuditLog {
  readonly tree: TreeStore;
  private nextSeq = 0;
  private prevLeaf: Buffer | null = null;
  private readonly insert;
  private readonly last;
  private listeners = new Set<(size: number) => void>();

  constructor(private readonly db: Db, private readonly clock: () => number = Date.now) {
    this.tree = createTreeStore(db);
    this.insert = db.prepare(
      `INSERT INTO audit_events (seq, at, action, actor, consent_id, transfer_id, patient_ref, parties, event_json, leaf_hash)
       VALUES (@seq, @at, @action, @actor, @consent, @transfer, @patient, @parties, @json, @leaf)`,
    );
    this.last = db.prepare('SELECT seq, leaf_hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    this.reload();
  }

  /** Re-reads the head from the database (after a rollback, or at start). */
  reload(): void {
    const row = this.last.get() as { seq: number; leaf_hash: Buffer } | undefined;
    this.nextSeq = row ? row.seq + 1 : 0;
    this.prevLeaf = row ? row.leaf_hash : null;
  }

  get size(): number {
    return this.nextSeq;
  }

  /** Appends one event. Call only inside a transaction (see Committer). */
  append(input: AuditEventInput): AppendedEvent {
    if (!this.db.inTransaction) throw new TypeError('audit events must be appended inside a transaction');
    const at = this.clock();
    const event: AuditEvent = {
      ...input,
      v: 1,
      seq: this.nextSeq,
      at: new Date(at).toISOString(),
      prev: this.prevLeaf ? this.prevLeaf.toString('base64') : '',
    };
    const json = canonicalJson(event);
    const leaf = leafHash(Buffer.from(json, 'utf8'));
    this.insert.run({
      seq: event.seq,
      at,
      action: event.action,
      actor: event.actor,
      consent: event.consent ?? null,
      transfer: event.transfer ?? null,
      patient: event.patient ?? null,
      parties: [event.actor, ...(event.parties ?? [])].join(' '),
      json,
      leaf,
    });
    const size = this.tree.append(leaf);
    if (size !== event.seq + 1) throw new Error('audit log and Merkle tree disagree on size');
    this.nextSeq += 1;
    this.prevLeaf = leaf;
    return { seq: event.seq, leafHash: leaf };
  }

  /** Called by the server after each commit so followers (checkpointer) see growth. */
  notifyCommitted(): void {
    for (const listener of this.listeners) listener(this.nextSeq);
  }

  onGrowth(listener: (size: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
