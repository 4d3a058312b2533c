/**
 * Verification of Merkle inclusion and consistency proofs: the iterative algorithms of RFC 9162
 * §2.1.3.2 and §2.1.4.2, with hdx's policy for the edge cases:
 *
 *  - every hash (leaf, roots, proof elements) must be exactly 32 bytes;
 *  - a leaf index must be < the tree size;
 *  - consistency from size 0 is rejected (it proves nothing), size1 > size2 is rejected;
 *  - size1 == size2 holds only with an empty proof and equal roots.
 *
 * Sizes and indices arrive from untrusted responses, so values that are not non-negative safe
 * integers fail as a `ProofError` rather than a `TypeError`. Arithmetic uses division, never the
 * 32-bit bitwise operators, so trees up to 2^53 leaves are handled.
 */
import { ProofError } from './errors.js';
import { isBytes, isUint } from './encoding.js';
import { HASH_SIZE, nodeHash } from './merkle.js';

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

function checkHash(value: unknown, what: string): asserts value is Uint8Array {
  if (!isBytes(value)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== HASH_SIZE) throw new ProofError('hash-length', `${what} is not a 32-byte hash`);
}

function checkProof(proof: unknown): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) throw new TypeError('proof must be an array');
  proof.forEach((p, i) => checkHash(p, `proof element ${i}`));
}

/** Number of elements an inclusion proof for (index, size) has: RFC 9162 §2.1.3.1's PATH length. */
function inclusionProofLength(index: number, size: number): number {
  // Inner part: levels until the paths of `index` and of the last leaf meet; border part: the left
  // siblings above that point (one per set bit of what remains of the index).
  let a = index;
  let b = size - 1;
  let length = 0;
  while (a !== b) {
    a = half(a);
    b = half(b);
    length++;
  }
  for (; a > 0; a = half(a)) if (isOdd(a)) length++;
  return length;
}

/**
 * Root implied by an inclusion proof for `leafHash` at `leafIndex` in a tree of `treeSize` leaves
 * (RFC 9162 §2.1.3.2 steps 1–4). Throws `ProofError` if the proof cannot be for that position.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  if (!isUint(treeSize) || treeSize === 0) throw new ProofError('size', 'tree size is not a positive integer');
  if (!isUint(leafIndex) || leafIndex >= treeSize) {
    throw new ProofError('index', 'leaf index is not within the tree');
  }
  checkHash(leafHash, 'leaf hash');
  checkProof(proof);
  if (proof.length !== inclusionProofLength(leafIndex, treeSize)) {
    throw new ProofError('proof-length', 'inclusion proof has the wrong number of elements');
  }

  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new ProofError('proof-length', 'inclusion proof is too long');
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('proof-length', 'inclusion proof is too short');
  return Buffer.from(r);
}

/** Throws `ProofError` unless `proof` proves that `leafHash` is leaf `leafIndex` of the tree `root`. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root');
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (!bytesEqual(computed, root)) throw new ProofError('root-mismatch', 'inclusion proof does not lead to the root');
}

/**
 * Throws `ProofError` unless `proof` proves that the tree of `size2` leaves with root `root2`
 * extends the tree of `size1` leaves with root `root1` (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  if (!isUint(size1) || !isUint(size2)) throw new ProofError('size', 'tree sizes are not non-negative integers');
  if (size1 === 0) throw new ProofError('size', 'consistency with the empty tree proves nothing');
  if (size1 > size2) throw new ProofError('size', 'the first tree is larger than the second');
  checkHash(root1, 'first root');
  checkHash(root2, 'second root');
  checkProof(proof);

  if (size1 === size2) {
    if (proof.length !== 0) throw new ProofError('proof-length', 'consistency proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) {
      throw new ProofError('root2-mismatch', 'trees of equal size have different roots');
    }
    return;
  }

  // Step 1–2: an empty proof is invalid; if size1 is a power of two, the old root is the first node.
  if (proof.length === 0) throw new ProofError('proof-length', 'consistency proof is empty');
  const path: readonly Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;

  // Step 3–4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5–6.
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw new ProofError('proof-length', 'consistency proof is too long');
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw new ProofError('proof-length', 'consistency proof is too short');
  if (!bytesEqual(fr, root1)) {
    throw new ProofError('root1-mismatch', 'consistency proof does not lead to the first root');
  }
  if (!bytesEqual(sr, root2)) {
    throw new ProofError('root2-mismatch', 'consistency proof does not lead to the second root');
  }
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && !isOdd(x)) x = half(x);
  return x === 1;
}
