/**
 * Computes an RFC 9162 Merkle root over a stream of leaf hashes in O(log n) memory: a stack of
 * perfect-subtree hashes merged as they fill, folded right to left at the end. Lets the officer's tool
 * recompute the root of any log size with flat memory. With `onNode`, every complete subtree it holds
 * or builds is reported as it appears — in the order the gateway's tree store writes its nodes — so
 * the stored nodes can be compared with these (`stored-tree.ts`).
 */
import { emptyRoot, nodeHash } from '../keys/transparency/index.js';

/** A complete subtree: level `level`, covering leaves [index·2^level, (index + 1)·2^level). */
export type NodeListener = (level: number, index: number, hash: Buffer) => void;

export class RootAccumulator {
  private readonly stack: Array<{ size: number; level: number; hash: Buffer }> = [];
  private count = 0;

  constructor(private readonly onNode?: NodeListener) {}

  get size(): number {
    return this.count;
  }

  push(leafHash: Buffer): void {
    this.pushSubtree(leafHash, 1);
  }

  /**
   * Adds the root of a perfect subtree of `size` leaves (a power of two) that starts at the current
   * size, which must be a multiple of `size`: the same as pushing its leaves one by one (except that
   * `onNode` hears of this subtree and those above it, not of the ones inside it).
   */
  pushSubtree(hash: Buffer, size: number): void {
    if (!Number.isSafeInteger(size) || size < 1 || !Number.isInteger(Math.log2(size)) || this.count % size !== 0) {
      throw new TypeError('a subtree must be a power of two in size and aligned to it');
    }
    let entry = { size, level: Math.round(Math.log2(size)), hash };
    this.onNode?.(entry.level, this.count / size, hash);
    const end = this.count + size;
    let top = this.stack[this.stack.length - 1];
    while (top && top.size === entry.size) {
      this.stack.pop();
      entry = { size: top.size * 2, level: top.level + 1, hash: nodeHash(top.hash, entry.hash) };
      this.onNode?.(entry.level, end / entry.size - 1, entry.hash);
      top = this.stack[this.stack.length - 1];
    }
    this.stack.push(entry);
    this.count = end;
  }

  root(): Buffer {
    if (this.stack.length === 0) return emptyRoot();
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }
}
