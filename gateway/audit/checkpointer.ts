/**
 * Signs C2SP checkpoints of the audit log with the gateway's Ed25519 log key: on demand, and at most
 * once a second while the log grows. Each checkpoint is stored, and before signing a new one the
 * gateway proves it consistent with the last one it signed, so it can never sign two that disagree.
 */
import {
  NOTE_SIGNATURE_PREFIX,
  signCheckpoint,
  verifyConsistency,
  type NoteSigner,
} from '../../keys/transparency/index.js';
import type { Store } from '../storage/store.js';
import type { AuditLog } from './log.js';

export type { SignedCheckpoint } from '../storage/rows.js';
import type { SignedCheckpoint } from '../storage/rows.js';

export class Checkpointer {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly signer: NoteSigner,
    readonly origin: string,
    private readonly clock: () => number = Date.now,
  ) {}

  latest(): Promise<SignedCheckpoint | undefined> {
    return this.store.reads.audit.checkpoints.latest();
  }

  /** A checkpoint of the current tree, signing a new one only if the log grew since the last. */
  async current(): Promise<SignedCheckpoint> {
    const tree = this.store.reads.audit.tree;
    const last = await this.latest();
    const size = await this.store.log.integrate();
    if (last && last.treeSize === size) return (await this.resignedAfterRotation(last)) ?? last;
    const rootHash = await tree.root(size);
    if (last && last.treeSize > 0) {
      const proof = await tree.consistencyProof(last.treeSize, size);
      // Throws if the stored tree no longer extends what we signed: refuse to sign a fork.
      verifyConsistency(last.treeSize, size, proof, last.rootHash, rootHash);
    }
    const note = signCheckpoint({ origin: this.origin, size, rootHash }, this.signer);
    // Stored unless one of this size exists (signed meanwhile): then that one is the answer.
    return this.store.log.putCheckpoint({ treeSize: size, rootHash, note }, this.clock());
  }

  /**
   * The last checkpoint signed by a log key since rotated (the log has not grown since the restart): the
   * same tree, re-derived, signed now by ours; not stored (one of this size exists). Only when the note's
   * text is the tree's and no signature is by our key id: a note edited under our key id is served as is,
   * for the officer to catch.
   */
  private async resignedAfterRotation(last: SignedCheckpoint): Promise<SignedCheckpoint | undefined> {
    const [text, signatures = ''] = last.note.split('\n\n');
    const keyIds = signatures
      .split('\n')
      .filter((line) => line.startsWith(NOTE_SIGNATURE_PREFIX))
      .map((line) => Buffer.from(line.split(' ').pop() ?? '', 'base64'))
      .map((bytes) => (bytes.length >= 4 ? bytes.readUInt32BE(0) : -1));
    if (keyIds.includes(this.signer.keyId)) return undefined;
    const rootHash = await this.store.reads.audit.tree.root(last.treeSize);
    const note = signCheckpoint({ origin: this.origin, size: last.treeSize, rootHash }, this.signer);
    if (text !== note.split('\n\n')[0]) return undefined;
    return { treeSize: last.treeSize, rootHash, note };
  }

  /**
   * Checkpoints at most once per `intervalMs` while the log grows. A failure (the stored tree no longer
   * extends the last checkpoint) must not crash the process from a timer: it goes to `onError`, and
   * the next on-demand `current()` throws it again to the caller.
   */
  start(intervalMs = 1000, onError: (error: unknown) => void = () => {}): void {
    this.unsubscribe = this.audit.onGrowth(() => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.current().catch(onError);
      }, intervalMs);
      this.timer.unref();
    });
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
