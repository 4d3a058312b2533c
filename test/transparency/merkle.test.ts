import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemorySubtreeSource,
  ProofError,
  consistencyProof,
  emptyRoot,
  eventLeafHash,
  inclusionProof,
  leafHash,
  nodeHash,
  rootAt,
  rootFromInclusionProof,
  rootFromLeaves,
  verifyConsistency,
  verifyInclusion,
  type SubtreeSource,
} from '../../keys/transparency/index.js';

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 SUBPROOF, written recursively as in the RFC over
 * ranges [lo, hi) of `leaves` (MTH memoised so the exhaustive comparisons stay fast).
 */
const split = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
const memo = new Map<string, Buffer>();
function mth(lo: number, hi: number): Buffer {
  if (hi - lo === 0) return sha();
  if (hi - lo === 1) return leaves[lo]!;
  const key = `${lo}:${hi}`;
  let h = memo.get(key);
  if (h === undefined) {
    const k = split(hi - lo);
    h = sha(Buffer.of(1), mth(lo, lo + k), mth(lo + k, hi));
    memo.set(key, h);
  }
  return h;
}
function path(m: number, lo: number, hi: number): Buffer[] {
  if (hi - lo <= 1) return [];
  const k = split(hi - lo);
  return m < k ? [...path(m, lo, lo + k), mth(lo + k, hi)] : [...path(m - k, lo + k, hi), mth(lo, lo + k)];
}
function subproof(m: number, lo: number, hi: number, b: boolean): Buffer[] {
  if (m === hi - lo) return b ? [] : [mth(lo, hi)];
  const k = split(hi - lo);
  return m <= k
    ? [...subproof(m, lo, lo + k, b), mth(lo + k, hi)]
    : [...subproof(m - k, lo + k, hi, false), mth(lo, lo + k)];
}

const leaves = Array.from({ length: 70 }, (_, i) => eventLeafHash({ seq: i, kind: 'test' }));

describe('Merkle hashing', () => {
  it('uses the RFC 6962 prefixes', () => {
    expect(leafHash(Buffer.from('abc'))).toEqual(sha(Buffer.of(0), Buffer.from('abc')));
    const [a, b] = [leaves[0]!, leaves[1]!];
    expect(nodeHash(a, b)).toEqual(sha(Buffer.of(1), a, b));
    expect(emptyRoot().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootFromLeaves([])).toEqual(emptyRoot());
  });

  it('hashes an event as its RFC 8785 canonical JSON', () => {
    expect(eventLeafHash({ b: [1, 'x'], a: 2 })).toEqual(leafHash(Buffer.from('{"a":2,"b":[1,"x"]}')));
  });

  it('rootFromLeaves and rootAt agree with the recursive MTH for 0..70 leaves', () => {
    const src = new MemorySubtreeSource(leaves);
    for (let n = 0; n <= leaves.length; n++) {
      const want = mth(0, n);
      expect(rootFromLeaves(leaves.slice(0, n))).toEqual(want);
      expect(rootAt(src, n)).toEqual(want);
    }
  });

  it('refuses hashes that are not 32 bytes (TypeError)', () => {
    expect(() => nodeHash(Buffer.alloc(31), Buffer.alloc(32))).toThrow(TypeError);
    expect(() => rootFromLeaves([Buffer.alloc(32), Buffer.alloc(33)])).toThrow(TypeError);
  });

  // How fast is measured by the bench (bench/limits.ts), not here: a loaded machine is no regression.
  it('computes the root of 1,000,000 leaves', () => {
    // Every leaf equal: the expected root then follows from O(log n) hashes; the work is the same.
    const h = leafHash(Buffer.from('same'));
    const perfect = [h];
    for (let l = 1; l < 21; l++) perfect.push(nodeHash(perfect[l - 1]!, perfect[l - 1]!));
    const same = (n: number): Buffer =>
      Number.isInteger(Math.log2(n)) ? perfect[Math.log2(n)]! : nodeHash(same(split(n)), same(n - split(n)));
    const root = rootFromLeaves(new Array<Buffer>(1_000_000).fill(h));
    expect(root).toEqual(same(1_000_000));
  }, 30_000);
});

describe('proof building matches the RFC definitions', () => {
  const src = new MemorySubtreeSource(leaves);
  // Compared as hex strings: deep equality of thousands of Buffers is slow in vitest.
  const hex = (proof: Buffer[]): string => proof.map((p) => p.toString('hex')).join(',');
  it('inclusion proofs for every leaf of every size up to 70', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= 70; n++) {
      for (let m = 0; m < n; m++) if (hex(inclusionProof(src, m, n)) !== hex(path(m, 0, n))) wrong.push(`${m}/${n}`);
    }
    expect(wrong).toEqual([]);
  });
  it('consistency proofs for every pair of sizes up to 70', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= 70; n++) {
      for (let m = 1; m <= n; m++) {
        if (hex(consistencyProof(src, m, n)) !== hex(subproof(m, 0, n, true))) wrong.push(`${m}→${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });
  it('caller misuse is a TypeError', () => {
    expect(() => inclusionProof(src, 5, 5)).toThrow(TypeError);
    expect(() => inclusionProof(src, -1, 5)).toThrow(TypeError);
    expect(() => consistencyProof(src, 0, 5)).toThrow(TypeError);
    expect(() => consistencyProof(src, 6, 5)).toThrow(TypeError);
    expect(() => rootAt(src, 1.5)).toThrow(TypeError);
    expect(() => rootAt(src, 71)).toThrow(TypeError); // the source has no such subtree
  });
});

describe('proof verification policy', () => {
  const src = new MemorySubtreeSource(leaves);
  const root = (n: number) => rootAt(src, n);
  const failure = (fn: () => void): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ProofError);
      expect((err as ProofError).code).toBe('ERR_PROOF_INVALID');
      return (err as ProofError).failure;
    }
    throw new Error('expected a ProofError');
  };

  it('inclusion: names the failed check', () => {
    const proof = inclusionProof(src, 3, 10);
    expect(() => verifyInclusion(3, 10, leaves[3]!, proof, root(10))).not.toThrow();
    expect(rootFromInclusionProof(3, 10, leaves[3]!, proof)).toEqual(root(10));
    expect(failure(() => verifyInclusion(10, 10, leaves[3]!, proof, root(10)))).toBe('index');
    expect(failure(() => verifyInclusion(-1, 10, leaves[3]!, proof, root(10)))).toBe('index');
    expect(failure(() => verifyInclusion(2 ** 64 - 1, 10, leaves[3]!, proof, root(10)))).toBe('index');
    expect(failure(() => verifyInclusion(0, 0, leaves[3]!, [], root(10)))).toBe('size');
    expect(failure(() => verifyInclusion(3, 10, leaves[3]!.subarray(1), proof, root(10)))).toBe('hash-length');
    expect(failure(() => verifyInclusion(3, 10, leaves[3]!, [...proof.slice(0, 2), Buffer.alloc(31)], root(10)))).toBe(
      'hash-length',
    );
    expect(failure(() => verifyInclusion(3, 10, leaves[3]!, proof.slice(1), root(10)))).toBe('proof-length');
    expect(failure(() => verifyInclusion(3, 10, leaves[3]!, [...proof, leaves[0]!], root(10)))).toBe('proof-length');
    expect(failure(() => verifyInclusion(3, 10, leaves[4]!, proof, root(10)))).toBe('root-mismatch');
    expect(failure(() => verifyInclusion(3, 10, leaves[3]!, proof, root(9)))).toBe('root-mismatch');
    expect(() => verifyInclusion(3, 10, leaves[3]!, 'x' as unknown as Buffer[], root(10))).toThrow(TypeError);
  });

  it('consistency: names the failed check', () => {
    const proof = consistencyProof(src, 6, 13);
    expect(() => verifyConsistency(6, 13, proof, root(6), root(13))).not.toThrow();
    expect(failure(() => verifyConsistency(0, 13, proof, emptyRoot(), root(13)))).toBe('size');
    expect(failure(() => verifyConsistency(0, 0, [], emptyRoot(), emptyRoot()))).toBe('size');
    expect(failure(() => verifyConsistency(14, 13, proof, root(6), root(13)))).toBe('size');
    expect(failure(() => verifyConsistency(6, 13, [], root(6), root(13)))).toBe('proof-length');
    expect(failure(() => verifyConsistency(6, 13, proof.slice(1), root(6), root(13)))).toMatch(/proof-length|root/);
    expect(failure(() => verifyConsistency(6, 13, [...proof, leaves[0]!], root(6), root(13)))).toBe('proof-length');
    expect(failure(() => verifyConsistency(6, 13, proof, root(5), root(13)))).toBe('root1-mismatch');
    expect(failure(() => verifyConsistency(6, 13, proof, root(6), root(12)))).toBe('root2-mismatch');
    expect(failure(() => verifyConsistency(6, 13, proof, root(6).subarray(2), root(13)))).toBe('hash-length');
    // Equal sizes: empty proof and equal roots only.
    expect(() => verifyConsistency(7, 7, [], root(7), Buffer.from(root(7)))).not.toThrow();
    expect(failure(() => verifyConsistency(7, 7, [root(7)], root(7), root(7)))).toBe('proof-length');
    expect(failure(() => verifyConsistency(7, 7, [], root(7), root(6)))).toBe('root2-mismatch');
  });

  it('handles trees beyond 2^32 leaves (no 32-bit arithmetic)', () => {
    // Every leaf equal: the hash of a complete subtree depends only on its level.
    const perfect = [leafHash(Buffer.from('x'))];
    for (let l = 1; l <= 52; l++) perfect.push(nodeHash(perfect[l - 1]!, perfect[l - 1]!));
    const uniform: SubtreeSource = { subtreeHash: (level) => perfect[level]! };
    const size1 = 2 ** 33 + 12_345;
    const size2 = 2 ** 40 + 7;
    const r1 = rootAt(uniform, size1);
    const r2 = rootAt(uniform, size2);
    for (const index of [0, 2 ** 32 + 1, size1 - 1]) {
      expect(() => verifyInclusion(index, size1, perfect[0]!, inclusionProof(uniform, index, size1), r1)).not.toThrow();
    }
    expect(() => verifyConsistency(size1, size2, consistencyProof(uniform, size1, size2), r1, r2)).not.toThrow();
    const p = inclusionProof(uniform, size1 - 1, size1);
    expect(failure(() => verifyInclusion(size1 - 1 - 2 ** 32, size1, perfect[0]!, p, r1))).toMatch(/proof-length|root/);
  });
});
