/**
 * The stored Merkle nodes the gateway builds its inclusion and consistency proofs from, compared with
 * the nodes recomputed from the events this tool verified (issue 14.9b). Recomputing the root from the
 * events proves the events; it says nothing of the stored subtree hashes, and one edited there makes
 * the gateway serve proofs a third party rejects. Both sides are kept as arrays per level (32 bytes a
 * node) and compared a `ListTreeNodes` span at a time, a level's stretch in one buffer comparison, so
 * memory stays flat; the next spans are asked for while this side hashes the events. The first node
 * that fails, in the order appends write them (by the leaf each ends at, then level), is named.
 */
import { nodeRanges } from '../gateway/audit/tree-store.js';
import { unaryCall } from '../proto/connect.js';
import type { TreeNodeRun } from '../proto/gen/hdx/v1/audit.js';
import type { NodeListener } from './root-accumulator.js';
import type { ComplianceSession } from './session.js';

/** Leaves per `ListTreeNodes` request (the gateway answers at most 10,000). */
export const NODE_SPAN = 8_192;

const HASH = 32;

/** Which events a node covers, as the messages say it. */
function covering(level: number, index: number): string {
  const first = index * 2 ** level;
  const last = (index + 1) * 2 ** level - 1;
  return first === last ? `covering event ${first}` : `covering events ${first}–${last}`;
}

/** Requests answered ahead of the comparison, so the gateway reads nodes while this side hashes events. */
const AHEAD = 2;

/** One level's recomputed nodes from index `base` on, in a buffer grown by doubling. */
class LevelBuffer {
  base = 0;
  private bytes = Buffer.alloc(0);
  private used = 0;

  /** Index after the last node held. */
  get end(): number {
    return this.base + this.used / HASH;
  }

  append(hashes: Uint8Array): void {
    if (this.used + hashes.length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + hashes.length, 64 * HASH));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.bytes.set(hashes, this.used);
    this.used += hashes.length;
  }

  /** Nodes [first, first + count) (all held). */
  slice(first: number, count: number): Buffer {
    const from = (first - this.base) * HASH;
    return this.bytes.subarray(from, from + count * HASH);
  }

  /** Forgets the nodes before `index`. */
  dropBefore(index: number): void {
    const drop = Math.min(this.used, Math.max(0, (index - this.base) * HASH));
    if (drop === 0) return;
    this.bytes.copy(this.bytes, 0, drop, this.used);
    this.used -= drop;
    this.base += drop / HASH;
  }
}

export class StoredTreeCheck {
  private readonly levels: LevelBuffer[] = [];
  private recomputedSize = 0;
  private requestedSize = 0;
  private readonly inFlight: Array<{ fromSize: number; toSize: number; answer: Promise<TreeNodeRun[]> }> = [];
  private count = 0;
  /** The first stored node that differs from the events, or is missing (in tree order). */
  failure: string | undefined;

  /** `span` (leaves per request, at most 10,000) is for tests. */
  constructor(private readonly session: ComplianceSession, private readonly span = NODE_SPAN) {}

  /** Nodes compared so far. */
  get compared(): number {
    return this.count;
  }

  /** Hears one recomputed node (a `ParallelEventChain`'s `onNode`); asks for each full span's stored nodes. */
  readonly recomputed: NodeListener = (level, index, hash) => this.add(level, index, hash);

  /**
   * Hears the nodes inside an aligned block of `count` leaves from `start` (`onLevels`): levels 0 up to,
   * not including, the block's root, packed level after level.
   */
  readonly recomputedLevels = (start: number, count: number, packed: Uint8Array): void => {
    let offset = 0;
    for (let level = 0, n = count; n > 1; level++, n /= 2) {
      this.add(level, start / 2 ** level, packed.subarray(offset, offset + n * HASH));
      offset += n * HASH;
    }
  };

  private add(level: number, index: number, hashes: Uint8Array): void {
    if (this.failure !== undefined) return;
    while (this.levels.length <= level) this.levels.push(new LevelBuffer());
    const buffer = this.levels[level]!;
    if (buffer.end !== index) throw new Error(`internal: level ${level} node ${index} recomputed out of order`);
    buffer.append(hashes);
    const end = (index + hashes.length / HASH) * 2 ** level;
    if (end > this.recomputedSize) this.recomputedSize = end;
    while (this.recomputedSize - this.requestedSize >= this.span) this.request(this.requestedSize + this.span);
  }

  /** Compares the answers that are more than `AHEAD` behind; with `all`, everything recomputed. */
  async compare(all = false): Promise<void> {
    if (all && this.failure === undefined && this.recomputedSize > this.requestedSize) this.request(this.recomputedSize);
    while (this.inFlight.length > (all ? 0 : AHEAD)) {
      const { fromSize, toSize, answer } = this.inFlight.shift()!;
      const runs = await answer;
      if (this.failure === undefined) this.check(fromSize, toSize, runs);
    }
  }

  private request(toSize: number): void {
    const fromSize = this.requestedSize;
    const answer = unaryCall(this.session.clients.audit, this.session.clients.audit.listTreeNodes, { fromSize, toSize }).then((r) => r.runs);
    // Awaited in order by `compare`; this only keeps an abandoned one from becoming an unhandled rejection.
    answer.catch(() => undefined);
    this.inFlight.push({ fromSize, toSize, answer });
    this.requestedSize = toSize;
  }

  /** Compares the recomputed nodes ending in (fromSize, toSize] with the stored runs, level by level. */
  private check(fromSize: number, toSize: number, runs: readonly TreeNodeRun[]): void {
    // The first failing node in append order: by the leaf it ends at, then level.
    let worst: { end: number; level: number; message: string } | undefined;
    const fail = (level: number, index: number, what: string) => {
      const end = (index + 1) * 2 ** level;
      if (!worst || end < worst.end || (end === worst.end && level < worst.level)) {
        worst = { end, level, message: `stored tree node (level ${level}, index ${index}) ${covering(level, index)} ${what}` };
      }
    };
    const byLevel = new Map<number, TreeNodeRun[]>();
    for (const run of runs) {
      if (run.hashes.length % HASH !== 0 || run.hashes.length === 0) {
        this.failure = `the gateway sent malformed tree nodes for sizes ${fromSize}–${toSize}`;
        return;
      }
      const list = byLevel.get(run.level) ?? [];
      list.push(run);
      byLevel.set(run.level, list);
    }
    const ranges = nodeRanges(fromSize, toSize);
    for (const [level, first, last] of ranges) {
      this.count += last - first + 1;
      const mine = this.levels[level]!;
      let next = first;
      for (const run of (byLevel.get(level) ?? []).sort((a, b) => a.firstIndex - b.firstIndex)) {
        const n = run.hashes.length / HASH;
        if (run.firstIndex < next || run.firstIndex + n - 1 > last) {
          this.failure = `the gateway sent tree nodes outside sizes ${fromSize}–${toSize}`;
          return;
        }
        if (run.firstIndex > next) fail(level, next, 'is missing');
        const recomputed = mine.slice(run.firstIndex, n);
        if (!recomputed.equals(run.hashes)) {
          let i = 0;
          while (recomputed.compare(run.hashes, i * HASH, i * HASH + HASH, i * HASH, i * HASH + HASH) === 0) i++;
          fail(level, run.firstIndex + i, 'does not match the events');
        }
        next = run.firstIndex + n;
      }
      if (next <= last) fail(level, next, 'is missing');
      byLevel.delete(level);
      mine.dropBefore(last + 1);
    }
    if (byLevel.size > 0) this.failure = `the gateway sent tree nodes outside sizes ${fromSize}–${toSize}`;
    else if (worst) this.failure = worst.message;
    // After a failure nothing more is compared (or kept).
    if (this.failure !== undefined) this.levels.length = 0;
  }
}
