/**
 * The stored Merkle nodes the gateway builds its inclusion and consistency proofs from, compared with
 * the nodes recomputed from the events this tool verified (issue 14.9b). Recomputing the root from the
 * events proves the events; it says nothing of the stored subtree hashes, and one edited there makes
 * the gateway serve proofs a third party rejects. Nodes are compared in the order both sides produce
 * them (by the leaf each ends at, then level), a page of `ListTreeNodes` at a time, so memory stays flat.
 */
import { unaryCall } from '../proto/connect.js';
import type { NodeListener } from './root-accumulator.js';
import type { ComplianceSession } from './session.js';

/** Leaves per `ListTreeNodes` request (the gateway answers at most 10,000). */
export const NODE_SPAN = 8_192;

interface Recomputed {
  level: number;
  index: number;
  end: number;
  hash: Buffer;
}

/** Which events a node covers, as the messages say it. */
function covering(level: number, index: number): string {
  const first = index * 2 ** level;
  const last = (index + 1) * 2 ** level - 1;
  return first === last ? `covering event ${first}` : `covering events ${first}–${last}`;
}

export class StoredTreeCheck {
  private pending: Recomputed[] = [];
  private recomputedSize = 0;
  private comparedSize = 0;
  private count = 0;
  /** The first stored node that differs from the events, or is missing (in tree order). */
  failure: string | undefined;

  constructor(private readonly session: ComplianceSession) {}

  /** Nodes compared so far. */
  get compared(): number {
    return this.count;
  }

  /** Hears each recomputed node (a `ParallelEventChain`'s `onNode`); stops collecting after a failure. */
  readonly recomputed: NodeListener = (level, index, hash) => {
    if (this.failure !== undefined) return;
    const end = (index + 1) * 2 ** level;
    this.pending.push({ level, index, end, hash });
    if (end > this.recomputedSize) this.recomputedSize = end;
  };

  /** Compares the stored nodes of every full span recomputed so far; with `all`, of everything. */
  async compare(all = false): Promise<void> {
    while (this.failure === undefined) {
      const ready = this.recomputedSize - this.comparedSize;
      if (ready === 0 || (!all && ready < NODE_SPAN)) return;
      const toSize = this.comparedSize + Math.min(ready, NODE_SPAN);
      const { nodes } = await unaryCall(this.session.clients.audit, this.session.clients.audit.listTreeNodes, {
        fromSize: this.comparedSize,
        toSize,
      });
      let next = 0;
      let done = 0;
      for (const node of this.pending) {
        if (node.end > toSize) break;
        done++;
        this.count++;
        const stored = nodes[next];
        if (stored === undefined || stored.level !== node.level || stored.index !== node.index) {
          this.failure ??= `stored tree node (level ${node.level}, index ${node.index}) ${covering(node.level, node.index)} is missing`;
          continue;
        }
        next++;
        if (!node.hash.equals(stored.hash)) {
          this.failure ??= `stored tree node (level ${node.level}, index ${node.index}) ${covering(node.level, node.index)} does not match the events`;
        }
      }
      if (next < nodes.length) this.failure ??= `the gateway sent tree nodes outside sizes ${this.comparedSize}–${toSize}`;
      this.pending = this.pending.slice(done);
      this.comparedSize = toSize;
    }
  }
}
