/**
 * Signs C2SP checkpoints of the audit log with the gateway's Ed25519 log key: on demand, and at most
 * once a second while the log grows. Each checkpoint is stored, and before signing a new one the
 * gateway proves it consistent with the last one it signed, so it can never sign two that disagree.
 */
import {
  signCheckpoint,
  verifyConsistency,
  type NoteSigner,
} from '../../keys/transparency/index.js';
import type { Db } from '../storage/db.js';
import type { AuditLog } from './log.js';

export type { SignedCheckpoint } from '../storage/rows.js';
import type { SignedCheckpoint } from '../storage/rows.js';

export class Checkpointer {
  private readonly latestRow;
  private readonly insert;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly signer: NoteSigner,
    readonly origin: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.latestRow = db.prepare('SELECT tree_size, root_hash, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1');
    this.insert = db.prepare('INSERT INTO checkpoints (tree_size, root_hash, note, signed_at) VALUES (?, ?, ?, ?)');
  }

  latest(): SignedCheckpoint | undefined {
    const row = this.latestRow.get() as { tree_size: number; root_hash: Buffer; note: string } | undefined;
    return row && { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note };
  }

  /** A checkpoint of the current tree, signing a new one only if the log grew since the last. */
  current(): SignedCheckpoint {
    return this.db.transaction(() => {
      const last = this.latest();
      const size = this.audit.tree.size();
      if (last && last.treeSize === size) return last;
      const rootHash = this.audit.tree.root(size);
      if (last && last.treeSize > 0) {
        const proof = this.audit.tree.consistencyProof(last.treeSize, size);
        // Throws if the stored tree no longer extends what we signed: refuse to sign a fork.
        verifyConsistency(last.treeSize, size, proof, last.rootHash, rootHash);
      }
      const note = signCheckpoint({ origin: this.origin, size, rootHash }, this.signer);
      this.insert.run(size, rootHash, note, this.clock());
      return { treeSize: size, rootHash, note };
    })();
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
        try {
          this.current();
        } catch (error) {
          onError(error);
        }
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
