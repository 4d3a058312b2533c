/**
 * Building Merkle proofs (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 PROOF/SUBPROOF) from a source of
 * *complete* subtree hashes. Every range the RFC's recursion asks for starts at a multiple of a
 * power of two larger than the range, so it decomposes into at most log2(n) complete subtrees
 * (the binary digits of its size), which are combined right to left. A proof therefore costs
 * O(log n) subtree reads: one per complete sibling, plus at most one composed right edge.
 */
import { emptyRoot, nodeHash } from './merkle.js';
import { isUint } from './encoding.js';

/** Hashes of complete (perfect) subtrees. */
export interface SubtreeSource {
  /**
   * The hash of the complete subtree over leaves [index·2^level, (index+1)·2^level): the leaf hash
   * itself at level 0. Called only for subtrees that lie inside the tree size asked about.
   */
  subtreeHash(level: number, index: number): Buffer;
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH of leaves [start, end), where start is a multiple of a power of two ≥ end − start. */
function rangeHash(src: SubtreeSource, start: number, end: number): Buffer {
  // Complete subtrees left to right: sizes are the set bits of (end − start), largest first.
  const parts: Buffer[] = [];
  let offset = start;
  let remaining = end - start;
  while (remaining > 0) {
    let size = 1;
    let level = 0;
    while (size * 2 <= remaining) {
      size *= 2;
      level++;
    }
    parts.push(src.subtreeHash(level, offset / size));
    offset += size;
    remaining -= size;
  }
  let h = parts.pop()!;
  while (parts.length > 0) h = nodeHash(parts.pop()!, h);
  return h;
}

/** The root hash of the first `treeSize` leaves. */
export function rootAt(src: SubtreeSource, treeSize: number): Buffer {
  if (!isUint(treeSize)) throw new TypeError('treeSize must be a non-negative safe integer');
  return treeSize === 0 ? emptyRoot() : rangeHash(src, 0, treeSize);
}

/** Inclusion proof (audit path) for leaf `leafIndex` in the tree of the first `treeSize` leaves. */
export function inclusionProof(src: SubtreeSource, leafIndex: number, treeSize: number): Buffer[] {
  if (!isUint(treeSize) || !isUint(leafIndex) || leafIndex >= treeSize) {
    throw new TypeError('leafIndex must be a safe integer in [0, treeSize)');
  }
  // Walk down from the root; siblings are collected top-down, proofs list them bottom-up.
  const siblings: Buffer[] = [];
  let lo = 0;
  let hi = treeSize;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (leafIndex < lo + k) {
      siblings.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      siblings.push(rangeHash(src, lo, lo + k));
      lo += k;
    }
  }
  return siblings.reverse();
}

/**
 * Consistency proof from the tree of `size1` leaves to the tree of `size2` leaves. Empty when the
 * sizes are equal. `size1` must be ≥ 1: the verifiers in hdx reject consistency from the empty tree.
 */
export function consistencyProof(src: SubtreeSource, size1: number, size2: number): Buffer[] {
  if (!isUint(size1) || !isUint(size2) || size1 === 0 || size1 > size2) {
    throw new TypeError('sizes must be safe integers with 1 <= size1 <= size2');
  }
  const nodes: Buffer[] = [];
  let lo = 0;
  let hi = size2;
  let complete = true; // SUBPROOF's flag b: is the old tree's range a left edge of the new tree?
  for (;;) {
    if (size1 === hi) {
      if (!complete) nodes.push(rangeHash(src, lo, hi));
      break;
    }
    const k = splitPoint(hi - lo);
    if (size1 - lo <= k) {
      nodes.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      nodes.push(rangeHash(src, lo, lo + k));
      lo += k;
      complete = false;
    }
  }
  return nodes.reverse();
}
