/**
 * Computes an RFC 9162 Merkle root over a stream of leaf hashes in O(log n) memory: a stack of
 * perfect-subtree hashes merged as they fill, folded right to left at the end. Lets the officer's tool
 * recompute the root of any log size with flat memory.
 */
import { emptyRoot, nodeHash } from '../keys/transparency/index.js';

export class RootAccumulator {
  private readonly stack: Array<{ size: number; hash: Buffer }> = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(leafHash: Buffer): void {
    this.pushSubtree(leafHash, 1);
  }

  /**
   * Adds the root of a perfect subtree of `size` leaves (a power of two) that starts at the current
   * size, which must be a multiple of `size`: the same as pushing its leaves one by one.
   */
  pushSubtree(hash: Buffer, size: number): void {
    if (!Number.isSafeInteger(size) || size < 1 || !Number.isInteger(Math.log2(size)) || this.count % size !== 0) {
      throw new TypeError('a subtree must be a power of two in size and aligned to it');
    }
    let entry = { size, hash };
    let top = this.stack[this.stack.length - 1];
    while (top && top.size === entry.size) {
      this.stack.pop();
      entry = { size: top.size * 2, hash: nodeHash(top.hash, entry.hash) };
      top = this.stack[this.stack.length - 1];
    }
    this.stack.push(entry);
    this.count += size;
  }

  root(): Buffer {
    if (this.stack.length === 0) return emptyRoot();
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }
}
