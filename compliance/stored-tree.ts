/**
 * The stored Merkle nodes the gateway builds its inclusion and consistency proofs from, compared with
 * the nodes recomputed from the events this tool verified (issue 14.9b). Recomputing the root from the
 * events proves the events; it says nothing of the stored subtree hashes, and one edited there makes
 * the gateway serve proofs a third party rejects. Nodes are compared in the order both sides produce
 * them (by the leaf each ends at, then level), a page of `ListTreeNodes` at a time, so memory stays flat;
 * the next pages are asked for while this side hashes the events.
 */
import { unaryCall } from '../proto/connect.js';
import type { TreeNode } from '../proto/gen/hdx/v1/audit.js';
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

/** Requests answered ahead of the comparison, so the gateway reads nodes while this side hashes events. */
const AHEAD = 2;

export class StoredTreeCheck {
  private pending: Recomputed[] = [];
  private recomputedSize = 0;
  private requestedSize = 0;
  private readonly inFlight: Array<{ fromSize: number; toSize: number; answer: Promise<TreeNode[]> }> = [];
  private count = 0;
  /** The first stored node that differs from the events, or is missing (in tree order). */
  failure: string | undefined;

  /** `span` (leaves per request, at most 10,000) is for tests. */
  constructor(private readonly session: ComplianceSession, private readonly span = NODE_SPAN) {}

  /** Nodes compared so far. */
  get compared(): number {
    return this.count;
  }

  /** Hears each recomputed node (a `ParallelEventChain`'s `onNode`); asks for each full span's stored nodes. */
  readonly recomputed: NodeListener = (level, index, hash) => {
    if (this.failure !== undefined) return;
    const end = (index + 1) * 2 ** level;
    this.pending.push({ level, index, end, hash });
    if (end > this.recomputedSize) this.recomputedSize = end;
    if (this.recomputedSize - this.requestedSize >= this.span) this.request(this.requestedSize + this.span);
  };

  /** Compares the answers that are more than `AHEAD` behind; with `all`, everything recomputed. */
  async compare(all = false): Promise<void> {
    if (all && this.failure === undefined && this.recomputedSize > this.requestedSize) this.request(this.recomputedSize);
    while (this.inFlight.length > (all ? 0 : AHEAD)) {
      const { fromSize, toSize, answer } = this.inFlight.shift()!;
      const nodes = await answer;
      if (this.failure === undefined) this.check(fromSize, toSize, nodes);
    }
  }

  private request(toSize: number): void {
    const fromSize = this.requestedSize;
    const answer = unaryCall(this.session.clients.audit, this.session.clients.audit.listTreeNodes, { fromSize, toSize }).then((r) => r.nodes);
    // Awaited in order by `compare`; this only keeps an abandoned one from becoming an unhandled rejection.
    answer.catch(() => undefined);
    this.inFlight.push({ fromSize, toSize, answer });
    this.requestedSize = toSize;
  }

  /** Zips the recomputed nodes ending in (fromSize, toSize] with the stored ones, both in tree order. */
  private check(fromSize: number, toSize: number, nodes: readonly TreeNode[]): void {
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
    if (next < nodes.length) this.failure ??= `the gateway sent tree nodes outside sizes ${fromSize}–${toSize}`;
    // After a failure nothing more is compared (or kept).
    this.pending = this.failure === undefined ? this.pending.slice(done) : [];
  }
}
