/**
 * The serial `EventChain` check spread over worker threads: events are cut into aligned blocks of
 * 4,096, each block is checked on its own (`chain-block.ts`: positions, JSON, links inside the block,
 * stored leaves, its subtree root) by the next free worker, and the results are taken back in order —
 * linking each block's first event to the previous block's last leaf and folding the subtree roots into
 * the RFC 9162 root. Same verdicts and messages as `EventChain`; the first failure in log order wins.
 * At most two blocks per worker are in flight, so memory stays flat on any log size.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkBlock, isAlignedPerfect, subtreeRoot, type BlockInput, type BlockResult } from './chain-block.js';
import { ChainBreak, breakMessage } from './event-chain.js';
import { RootAccumulator, type NodeListener } from './root-accumulator.js';

export const BLOCK = 4_096;

export interface ServedEvent {
  seq: number;
  eventJson: string;
  leafHash?: Uint8Array;
}

/**
 * Consecutive events from `firstSeq` as ListEvents packs them: event i is `eventJson` bytes
 * [sum of lengths before i, + jsonLengths[i]), its stored leaf `leafHashes` [32·i, 32·i + 32).
 */
export interface PackedPage {
  firstSeq: number;
  eventJson: Uint8Array;
  jsonLengths: readonly number[];
  leafHashes: Uint8Array;
}

export class ParallelEventChain {
  private readonly acc: RootAccumulator;
  private readonly onNode: NodeListener | undefined;
  private readonly onLevels: LevelsListener | undefined;
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (e: unknown) => void }>();
  private readonly inFlight: Array<Promise<BlockResult>> = [];
  private buffer: BlockInput;
  /** The block's leaf inputs as a Buffer (for string writes), and how many bytes are used. */
  private text!: Buffer;
  private used = 0;
  private nextId = 0;
  private nextWorker = 0;
  private dispatched = 0;
  private lastLeaf = '';
  private closed = false;
  private readonly block: number;

  /**
   * `workers: 0` checks every block inline, on this thread; `block` (a power of two) is for tests.
   * `onNode` hears every Merkle subtree of the checked events, in the tree store's order (the root is
   * then built leaf by leaf here: the same hashes, each reported). With `onLevels` too, the workers
   * hash each full block's inner nodes and `onLevels` hears them as level arrays; `onNode` then hears
   * only the blocks' roots, the nodes above them and a last partial block's nodes.
   */
  constructor(options: { workers?: number; block?: number; onNode?: NodeListener; onLevels?: LevelsListener } = {}) {
    this.block = options.block ?? BLOCK;
    this.onNode = options.onNode;
    this.onLevels = options.onNode && options.onLevels;
    this.acc = new RootAccumulator(options.onNode);
    if (!Number.isInteger(Math.log2(this.block))) throw new TypeError('block must be a power of two');
    // One core stays with this thread, which fetches or reads the pages and folds the results.
    const count = options.workers ?? Math.max(1, availableParallelism() - 1);
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./chain-worker-entry.mjs', import.meta.url));
      worker.on('message', ({ id, result }: { id: number; result: BlockResult }) => {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.resolve(result);
      });
      worker.on('error', (error) => {
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
      });
      this.workers.push(worker);
    }
    this.buffer = this.emptyBlock(0);
  }

  /** Events checked and folded into the root so far. */
  get size(): number {
    return this.acc.size;
  }

  /** Adds served events in order. Throws `ChainBreak` for the first failure found so far. */
  async push(events: readonly ServedEvent[]): Promise<void> {
    for (const e of events) {
      const b = this.buffer;
      const i = b.count;
      b.seqs[i] = e.seq;
      this.reserve(1 + e.eventJson.length * 3);
      b.leafInputs[this.used] = 0x00;
      this.used += 1 + this.text.write(e.eventJson, this.used + 1, 'utf8');
      b.ends[i] = this.used;
      const stored = e.leafHash;
      if (stored !== undefined && stored.length > 0) {
        // Copied into one contiguous buffer: a Buffer from SQLite is often a view of a larger pool,
        // and posting views would copy their whole pools to the worker.
        if (stored.length === 32) {
          b.stored.set(stored, i * 32);
          b.storedKind[i] = 1;
        } else b.storedKind[i] = 2;
      }
      b.count = i + 1;
      if (b.count === this.block) await this.dispatch();
    }
  }

  /**
   * Adds a packed page of events in order (`PackedPage`): its bytes are copied into the blocks a run
   * at a time, with no string or object per event. Throws `ChainBreak` as `push` does.
   */
  async pushPacked(page: PackedPage): Promise<void> {
    const { eventJson, jsonLengths, leafHashes, firstSeq } = page;
    const n = jsonLengths.length;
    if (leafHashes.length !== n * 32) throw new TypeError('a packed page needs 32 bytes of stored leaf per event');
    let offset = 0;
    for (let i = 0; i < n; ) {
      const b = this.buffer;
      const take = Math.min(n - i, this.block - b.count);
      let bytes = 0;
      for (let k = 0; k < take; k++) bytes += jsonLengths[i + k]!;
      this.reserve(bytes + take);
      for (let k = 0; k < take; k++) {
        const length = jsonLengths[i + k]!;
        if (offset + length > eventJson.length) throw new TypeError('a packed page is shorter than its lengths say');
        b.leafInputs[this.used] = 0x00;
        b.leafInputs.set(eventJson.subarray(offset, offset + length), this.used + 1);
        offset += length;
        this.used += 1 + length;
        b.ends[b.count + k] = this.used;
        b.seqs[b.count + k] = firstSeq + i + k;
      }
      b.stored.set(leafHashes.subarray(i * 32, (i + take) * 32), b.count * 32);
      b.storedKind.fill(1, b.count, b.count + take);
      b.count += take;
      i += take;
      if (b.count === this.block) await this.dispatch();
    }
  }

  /** Room for `bytes` more leaf-input bytes in the block being filled. */
  private reserve(bytes: number): void {
    const b = this.buffer;
    if (this.used + bytes <= b.leafInputs.length) return;
    const grown = new Uint8Array(Math.max(2 * b.leafInputs.length, this.used + bytes));
    grown.set(b.leafInputs.subarray(0, this.used));
    b.leafInputs = grown;
    this.text = Buffer.from(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** Checks what is left and returns the root of everything pushed. Throws `ChainBreak`. */
  async finish(): Promise<Buffer> {
    try {
      if (this.buffer.count > 0) await this.dispatch();
      while (this.inFlight.length > 0) this.fold(await this.inFlight.shift()!);
      return this.acc.root();
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) void w.terminate();
  }

  private async dispatch(): Promise<void> {
    const block = this.buffer;
    block.leafInputs = block.leafInputs.subarray(0, this.used);
    this.dispatched += block.count;
    this.buffer = this.emptyBlock(this.dispatched);
    this.inFlight.push(this.check(block));
    // Bound memory: fold the oldest results once two blocks per worker are out.
    while (this.inFlight.length > Math.max(1, this.workers.length * 2)) this.fold(await this.inFlight.shift()!);
  }

  private emptyBlock(start: number): BlockInput {
    // With workers, this thread computes the subtree roots: it balances the parsing and leaf hashing
    // the workers do against the reading and folding done here.
    // Nodes to report: the block's are hashed wherever it is checked (workers: off this thread).
    const levels = this.onLevels !== undefined;
    // Leaf inputs start at ~1 kB an event and grow by doubling; each block owns its buffers (transferred).
    const leafInputs = new Uint8Array(this.block * 1024);
    this.text = Buffer.from(leafInputs.buffer);
    this.used = 0;
    return {
      start,
      count: 0,
      seqs: new Float64Array(this.block),
      leafInputs,
      ends: new Uint32Array(this.block),
      stored: new Uint8Array(this.block * 32),
      storedKind: new Uint8Array(this.block),
      withRoot: levels || (this.workers.length === 0 && !this.onNode),
      withLevels: levels,
    };
  }

  private check(block: BlockInput): Promise<BlockResult> {
    if (this.workers.length === 0) return Promise.resolve(checkBlock(block));
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    const result = new Promise<BlockResult>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    result.catch(() => undefined);
    const transfer = [block.leafInputs.buffer, block.ends.buffer, block.seqs.buffer, block.stored.buffer, block.storedKind.buffer] as ArrayBuffer[];
    worker.postMessage({ id, block }, transfer);
    return result;
  }

  private fold(result: BlockResult): void {
    const { start, error } = result;
    if (error && error.seq <= start && error.beforeLink) throw new ChainBreak(error.seq, error.message);
    if (result.count > 0 && result.firstPrev !== this.lastLeaf) throw new ChainBreak(start - 1, breakMessage('link', start));
    if (error) throw new ChainBreak(error.seq, error.message);
    if (result.levels && result.subtreeRoot) {
      this.onLevels!(start, result.count, result.levels);
      this.acc.pushSubtree(Buffer.from(result.subtreeRoot), result.count);
    } else if (this.onNode) for (let i = 0; i < result.count; i++) this.acc.push(Buffer.from(result.leaves.subarray(i * 32, i * 32 + 32)));
    else this.foldRoot(result);
    if (result.count > 0) this.lastLeaf = Buffer.from(result.leaves.subarray((result.count - 1) * 32)).toString('base64');
  }

  private foldRoot(result: BlockResult): void {
    const { start } = result;
    const root = result.subtreeRoot ?? (isAlignedPerfect(start, result.count) ? subtreeRoot(result.leaves, result.count) : undefined);
    if (root) this.acc.pushSubtree(Buffer.from(root), result.count);
    else for (let i = 0; i < result.count; i++) this.acc.push(Buffer.from(result.leaves.subarray(i * 32, i * 32 + 32)));
  }
}

/** Hears the inner nodes of an aligned block of `count` leaves from `start` (see `subtreeLevels`). */
export type LevelsListener = (start: number, count: number, packed: Uint8Array) => void;
