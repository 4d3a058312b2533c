/**
 * An in-memory `SubtreeSource`: every level of complete subtrees, kept in arrays. For tests, tools
 * and small logs; the gateway keeps the same hashes in SQLite (`gateway/audit/tree-store.ts`).
 */
import { HASH_SIZE, nodeHash } from './merkle.js';
import { isBytes } from './encoding.js';
import type { SubtreeSource } from './proof-build.js';

export class MemorySubtreeSource implements SubtreeSource {
  /** levels[l][i] = hash of the complete subtree of 2^l leaves starting at leaf i·2^l. */
  readonly #levels: Buffer[][] = [[]];

  constructor(leafHashes: Iterable<Uint8Array> = []) {
    for (const h of leafHashes) this.append(h);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#levels[0]!.length;
  }

  /** Appends a leaf hash and the complete subtrees it closes; returns the new size. */
  append(leafHash: Uint8Array): number {
    if (!isBytes(leafHash) || leafHash.length !== HASH_SIZE) throw new TypeError('leaf hash must be 32 bytes');
    let h: Buffer = Buffer.from(leafHash);
    let level = 0;
    let index = this.size;
    this.#levels[0]!.push(h);
    while (index % 2 === 1) {
      h = nodeHash(this.#levels[level]![index - 1]!, h);
      level++;
      index = (index - 1) / 2;
      (this.#levels[level] ??= []).push(h);
    }
    return this.size;
  }

  subtreeHash(level: number, index: number): Buffer {
    const h = this.#levels[level]?.[index];
    if (h === undefined) throw new TypeError(`no complete subtree at level ${level}, index ${index}`);
    return h;
  }
}
