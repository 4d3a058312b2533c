/**
 * One block of consecutive events checked on its own — positions, JSON, the hash chain inside the
 * block, the stored leaf hashes — returning its leaves (and, for an aligned power-of-two block, its
 * Merkle subtree root). Pure and synchronous, so it runs the same in a worker thread or inline; the
 * caller links blocks together (the first event's `prev`) and folds them into the root. Failure
 * messages are exactly those of the serial `EventChain`.
 */
import { hash } from 'node:crypto';
import { breakMessage, type BreakKind } from './event-chain.js';

export interface BlockInput {
  start: number;
  count: number;
  /** The sequence numbers the gateway served, in order. */
  seqs: Float64Array;
  /**
   * The leaf inputs, 0x00 || the event's UTF-8 bytes, one after another (transferable to a worker):
   * event i's input is leafInputs[ends[i - 1] (0 for the first), ends[i]).
   */
  leafInputs: Uint8Array;
  ends: Uint32Array;
  /** The leaf hashes the gateway stored, 32 bytes per event, contiguous (transferable to a worker). */
  stored: Uint8Array;
  /** Per event: 0 no stored leaf was sent, 1 one was (in `stored`), 2 one was but not 32 bytes. */
  storedKind: Uint8Array;
  /** Compute the subtree root here (else the caller does, with `subtreeRoot`). */
  withRoot: boolean;
  /** With `withRoot`: also return every node inside the subtree (`levels`). */
  withLevels?: boolean;
}

export interface BlockBreak {
  /** The sequence number to report (`firstBreak`). */
  seq: number;
  message: string;
  /** Whether this check comes before the link to the previous event in the serial order. */
  beforeLink: boolean;
}

export interface BlockResult {
  start: number;
  count: number;
  /** The `prev` the first event claims (to link to the previous block). */
  firstPrev: unknown;
  /** `count` leaf hashes, 32 bytes each. */
  leaves: Uint8Array;
  /** The subtree root when `count` is a power of two and `start` a multiple of it. */
  subtreeRoot?: Uint8Array;
  /** With `withLevels`: the nodes below that root, level 0 (the leaves) up, 32 bytes each, packed. */
  levels?: Uint8Array;
  error?: BlockBreak;
}

const NODE = 0x01;

export function checkBlock(input: BlockInput): BlockResult {
  const { start, count, seqs, ends, stored, storedKind } = input;
  // Hashed and parsed in place: no string or buffer per event but the parsed text.
  const bytes = Buffer.from(input.leafInputs.buffer, input.leafInputs.byteOffset, input.leafInputs.byteLength);
  const leaves = new Uint8Array(count * 32);
  let firstPrev: unknown;
  let prevB64 = '';
  const fail = (kind: BreakKind, seq: number): BlockResult => {
    const at = kind === 'link' ? seq - 1 : seq;
    // The block's first event not matching its own stored leaf is blamed before the link to the block before.
    const beforeLink = kind === 'missing' || kind === 'json' || kind === 'position' || (kind === 'stored' && seq === start);
    return { start, count, firstPrev, leaves, error: { seq: at, message: breakMessage(kind, seq), beforeLink } };
  };
  let from = 0;
  for (let i = 0; i < count; i++) {
    const seq = start + i;
    const to = ends[i]!;
    if (seqs[i] !== seq) return fail('missing', seq);
    const leaf = hash('sha256', bytes.subarray(from, to), 'buffer');
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', from + 1, to));
    } catch {
      return fail('json', seq);
    }
    from = to;
    const claimed = typeof parsed === 'object' && parsed !== null ? (parsed as { seq?: unknown; prev?: unknown }) : {};
    if (claimed.seq !== seq) return fail('position', seq);
    const kind = storedKind[i];
    const storedDiffers = kind === 2 || (kind === 1 && !leaf.equals(stored.subarray(i * 32, i * 32 + 32)));
    if (i === 0) firstPrev = claimed.prev;
    else if (claimed.prev !== prevB64) return fail(storedDiffers ? 'prev' : 'link', seq);
    if (storedDiffers) return fail('stored', seq);
    leaves.set(leaf, i * 32);
    prevB64 = leaf.toString('base64');
  }
  const result: BlockResult = { start, count, firstPrev, leaves };
  if (input.withRoot && isAlignedPerfect(start, count)) {
    if (input.withLevels) Object.assign(result, subtreeLevels(leaves, count));
    else result.subtreeRoot = subtreeRoot(leaves, count);
  }
  return result;
}

/** Whether `count` leaves from `start` form one perfect subtree of the log's tree. */
export function isAlignedPerfect(start: number, count: number): boolean {
  return count > 0 && Number.isInteger(Math.log2(count)) && start % count === 0;
}

/** Root of a perfect tree over `count` (a power of two) leaves, reduced in a copy. */
export function subtreeRoot(leaves: Uint8Array, count: number): Uint8Array {
  const level = Buffer.from(leaves);
  const pair = Buffer.alloc(65);
  pair[0] = NODE;
  for (let n = count; n > 1; n /= 2) {
    for (let i = 0; i < n / 2; i++) {
      level.copy(pair, 1, i * 64, i * 64 + 64);
      hash('sha256', pair, 'buffer').copy(level, i * 32);
    }
  }
  return new Uint8Array(level.subarray(0, 32));
}

/** Every node of a perfect tree over `count` leaves: those below the root packed level by level, and the root. */
export function subtreeLevels(leaves: Uint8Array, count: number): { levels: Uint8Array; subtreeRoot: Uint8Array } {
  const levels = Buffer.alloc(Math.max(0, 2 * count - 2) * 32);
  if (count === 1) return { levels, subtreeRoot: leaves.slice(0, 32) };
  levels.set(leaves.subarray(0, count * 32), 0);
  const pair = Buffer.alloc(65);
  pair[0] = NODE;
  let from = 0;
  let to = count * 32;
  for (let n = count; n > 2; n /= 2) {
    for (let i = 0; i < n / 2; i++) {
      levels.copy(pair, 1, from + i * 64, from + i * 64 + 64);
      hash('sha256', pair, 'buffer').copy(levels, to + i * 32);
    }
    from = to;
    to += (n / 2) * 32;
  }
  levels.copy(pair, 1, from, from + 64);
  return { levels, subtreeRoot: new Uint8Array(hash('sha256', pair, 'buffer')) };
}
