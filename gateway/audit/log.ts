/**
 * The append-only audit log. `append` runs inside the caller's transaction, next to the state change it
 * describes: the event and its Merkle leaf commit or roll back together. Every event carries its
 * predecessor's leaf hash (a hash chain); the Merkle tree over the same leaves lets the regulator's tool
 * prove inclusion and consistency without trusting us. The store assigns each event its place (seq, prev)
 * under its lock on the log's head, so replicas on one database form one chain (storage/store.ts).
 */
import { canonicalJson } from '../../keys/canonical.js';
import { leafHash } from '../../keys/transparency/index.js';
import type { AppendedEvent, LogHead, SequencedEvent, Store, StoreTx, TreeReads } from '../storage/store.js';
import type { AuditEvent, AuditEventInput } from './events.js';

export type { AppendedEvent } from '../storage/store.js';

/** The event `input` becomes at `head`, hashed: what the store inserts. */
export function sequenceEvent(input: AuditEventInput, head: LogHead, at: number): SequencedEvent {
  const event: AuditEvent = {
    ...input,
    v: 1,
    seq: head.seq,
    at: new Date(at).toISOString(),
    prev: head.prev ? head.prev.toString('base64') : '',
  };
  const json = canonicalJson(event);
  return {
    seq: event.seq,
    at,
    json,
    leaf: leafHash(Buffer.from(json, 'utf8')),
    action: event.action,
    actor: event.actor,
    consent: event.consent ?? null,
    transfer: event.transfer ?? null,
    patient: event.patient ?? null,
    parties: [event.actor, ...(event.parties ?? [])].join(' '),
  };
}

export class AuditLog {
  readonly tree: TreeReads;
  private committed = 0;

  constructor(private readonly store: Store, private readonly clock: () => number = Date.now) {
    this.tree = store.reads.audit.tree;
    // Registered first, so growth listeners below see the new size.
    store.notifier.subscribe('audit', (payload) => {
      this.committed = Math.max(this.committed, Number(payload));
    });
  }

  /** Reads the committed size (at start). */
  async load(): Promise<this> {
    this.committed = Math.max(this.committed, await this.store.reads.audit.size());
    return this;
  }

  /** The committed size as last heard (metrics, log lines); `store.reads.audit.size()` asks the database. */
  get size(): number {
    return this.committed;
  }

  /** Appends one event inside `tx`. */
  append(tx: StoreTx, input: AuditEventInput): Promise<AppendedEvent> {
    return tx.audit.append((head) => sequenceEvent(input, head, this.clock()));
  }

  /** Called after each commit that appended events, with the committed size (checkpointer, counters). */
  onGrowth(listener: (size: number) => void): () => void {
    return this.store.notifier.subscribe('audit', (payload) => listener(Number(payload)));
  }
}
