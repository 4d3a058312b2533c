/**
 * The audit log's Merkle tree in SQLite. The table holds the hash of every *complete* subtree:
 * (level 0, i) is leaf i, (level l, i) covers leaves [i·2^l, (i+1)·2^l). Appending leaf n writes the
 * leaf and the subtrees it completes (one per trailing 1-bit of n); a root or proof for any size
 * reads O(log n) rows through `keys/transparency`'s proof builder.
 *
 * By default nothing is cached in memory: the size and the left siblings are read from the table on
 * each append, so an append that the caller's transaction rolls back, or an append by another
 * connection, can never leave this object stale. The file's one writer may keep the tree's right edge
 * instead (`rememberEdge`), if it calls `forget()` after every rollback. Triggers refuse UPDATE, DELETE and overwriting inserts (INSERT OR
 * REPLACE), but verifiers do not rely on them: an edited node makes proofs fail against the roots
 * the gateway signed before.
 */
import type { Database, Statement } from 'better-sqlite3';
import {
  HASH_SIZE,
  consistencyProof as buildConsistencyProof,
  inclusionProof as buildInclusionProof,
  nodeHash,
  rootAt,
  type SubtreeSource,
} from '../../keys/transparency/index.js';
import { HdxError } from '../errors.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_nodes (
  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx   INTEGER NOT NULL CHECK (idx >= 0),
  hash  BLOB    NOT NULL CHECK (length(hash) = ${HASH_SIZE}),
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;

CREATE TRIGGER IF NOT EXISTS merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;

-- INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless recursive_triggers).
CREATE TRIGGER IF NOT EXISTS merkle_nodes_no_replace BEFORE INSERT ON merkle_nodes
WHEN EXISTS (SELECT 1 FROM merkle_nodes WHERE level = NEW.level AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
`;

export interface TreeStore {
  /**
   * Appends a leaf hash and every subtree it completes; returns the new tree size. Must run inside
   * the caller's `db.transaction(...)`, together with the audit event the leaf commits to.
   */
  append(leafHash: Uint8Array): number;
  /** Number of leaves (committed, or written earlier in the current transaction). */
  size(): number;
  /** Root hash of the first `size` leaves (default: the whole tree). */
  root(size?: number): Buffer;
  /** Inclusion proof for leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size: number): Buffer[];
  /** Consistency proof from the tree of `size1` leaves to that of `size2` leaves (1 ≤ size1 ≤ size2). */
  consistencyProof(size1: number, size2: number): Buffer[];
  /**
   * The stored subtrees completed as the tree grew from `fromSize` to `toSize` leaves, as runs of
   * consecutive nodes by level, then index. A missing row is left out (its level's run breaks there).
   */
  nodes(fromSize: number, toSize: number): NodeRun[];
  /** Drops the remembered right edge (`rememberEdge`): call after any rollback of a transaction that appended. */
  forget(): void;
}

export interface TreeStoreOptions {
  /**
   * Keep the size and the hashes along the tree's right edge (one complete subtree per 1-bit of the size)
   * between appends, read from the table once, instead of reading the size and each left sibling per
   * append. Only for the file's one writer, which calls `forget()` after every rollback.
   */
  rememberEdge?: boolean;
}

export interface StoredNode {
  level: number;
  index: number;
  hash: Buffer;
}

/** Consecutive stored nodes of one level: `hashes` holds 32 bytes per node, from index `first`. */
export interface NodeRun {
  level: number;
  first: number;
  hashes: Buffer;
}

/**
 * Packs rows sorted by level, then index, into runs (a gap starts a new run): one buffer per level
 * instead of an object per node, for ListTreeNodes' packed `hashes`.
 */
export function toRuns(rows: Iterable<readonly [level: number, index: number, hash: Uint8Array]>): NodeRun[] {
  const runs: NodeRun[] = [];
  let level = -1;
  let first = 0;
  let parts: Uint8Array[] = [];
  const close = () => {
    if (parts.length > 0) runs.push({ level, first, hashes: Buffer.concat(parts) });
  };
  for (const [l, index, hash] of rows) {
    if (l !== level || index !== first + parts.length) {
      close();
      level = l;
      first = index;
      parts = [];
    }
    parts.push(hash);
  }
  close();
  return runs;
}

/** The nodes of `runs`, one each, in the order appends write them (tests compare with the accumulator's). */
export function nodesOfRuns(runs: readonly NodeRun[]): StoredNode[] {
  const nodes: StoredNode[] = [];
  for (const { level, first, hashes } of runs) {
    for (let i = 0; i * HASH_SIZE < hashes.length; i++) nodes.push({ level, index: first + i, hash: hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE) });
  }
  return nodes.sort(inAppendOrder);
}

/**
 * The (level, first index, last index) ranges of the subtrees completed as the tree grew from `fromSize`
 * to `toSize` leaves: level l's subtree i ends at leaf (i + 1)·2^l, so those ending in (fromSize, toSize]
 * are one index range per level.
 */
export function nodeRanges(fromSize: number, toSize: number): Array<[level: number, first: number, last: number]> {
  const ranges: Array<[number, number, number]> = [];
  for (let level = 0, width = 1; width <= toSize; level++, width *= 2) {
    const first = Math.floor(fromSize / width);
    const last = Math.floor(toSize / width) - 1;
    if (last >= first) ranges.push([level, first, last]);
  }
  return ranges;
}

/** The order appends write nodes in: by the leaf each ends at, then level. */
export function inAppendOrder(a: { level: number; index: number }, b: { level: number; index: number }): number {
  return (a.index + 1) * 2 ** a.level - (b.index + 1) * 2 ** b.level || a.level - b.level;
}

/** The table's contents are inconsistent (a node is missing or malformed): an internal error. */
export class TreeStoreCorrupt extends HdxError {}

export function createTreeStore(db: Database, options: TreeStoreOptions = {}): TreeStore {
  db.exec(SCHEMA);
  const insertNode: Statement<[number, number, Buffer]> = db.prepare(
    'INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)',
  );
  const selectNode: Statement<[number, number], { hash: Buffer }> = db.prepare(
    'SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?',
  );
  // Raw rows: a page is some 20,000 of them, and arrays cost less than objects.
  const selectLevelRange = (db.prepare('SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx BETWEEN ? AND ? ORDER BY idx') as Statement<
    [number, number, number],
    [number, Buffer]
  >).raw();
  // A level's stretch as one blob, concatenated by SQLite: no row object or Buffer per node. Used when
  // the stretch is whole (count and length say so); otherwise the rows above find the gaps.
  const selectLevelBlob = (db.prepare(
    // In the primary key's order, without a sort (as in auditQueries' packed page).
    "SELECT count(*), unhex(group_concat(hex(hash), '')) FROM (SELECT hash FROM merkle_nodes WHERE level = ? AND idx BETWEEN ? AND ? ORDER BY idx)",
  ) as Statement<[number, number, number], [number, Buffer | null]>).raw();
  const selectLastLeaf: Statement<[], { idx: number }> = db.prepare(
    'SELECT idx FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1',
  );

  const source: SubtreeSource = {
    subtreeHash(level: number, index: number): Buffer {
      const row = selectNode.get(level, index);
      if (row === undefined || !Buffer.isBuffer(row.hash) || row.hash.length !== HASH_SIZE) {
        throw new TreeStoreCorrupt('audit tree node is missing or malformed');
      }
      return row.hash;
    },
  };

  const size = (): number => {
    const row = selectLastLeaf.get();
    return row === undefined ? 0 : row.idx + 1;
  };

  /** The right edge: `nodes[l]` is the complete subtree of 2^l leaves that ends the tree, where bit l of `size` is 1. */
  let edge: { size: number; nodes: Array<Buffer | undefined> } | undefined;
  const readEdge = () => {
    const n = size();
    const nodes: Array<Buffer | undefined> = [];
    for (let level = 0, width = 1; width <= n; level++, width *= 2) {
      const count = Math.floor(n / width);
      if (count % 2 === 1) nodes[level] = source.subtreeHash(level, count - 1);
    }
    return { size: n, nodes };
  };

  const checkSize = (value: unknown, what: string): number => {
    const current = size();
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > current) {
      throw new TypeError(`${what} must be an integer between 0 and the tree size`);
    }
    return current;
  };

  return {
    append(leafHash: Uint8Array): number {
      if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
        throw new TypeError('leafHash must be 32 bytes');
      }
      if (!db.inTransaction) throw new TypeError('append must run inside the caller’s transaction');
      const known = options.rememberEdge ? (edge ??= readEdge()) : undefined;
      const n = known ? known.size : size();
      let hash: Buffer = Buffer.from(leafHash);
      let level = 0;
      let index = n;
      try {
        insertNode.run(level, index, hash);
        while (index % 2 === 1) {
          hash = nodeHash(known?.nodes[level] ?? source.subtreeHash(level, index - 1), hash);
          if (known) known.nodes[level] = undefined;
          level++;
          index = (index - 1) / 2;
          insertNode.run(level, index, hash);
        }
      } catch (error) {
        edge = undefined;
        throw error;
      }
      if (known) {
        known.nodes[level] = hash;
        known.size = n + 1;
      }
      return n + 1;
    },

    forget(): void {
      edge = undefined;
    },

    size,

    root(treeSize?: number): Buffer {
      if (treeSize === undefined) return rootAt(source, size());
      checkSize(treeSize, 'size');
      return rootAt(source, treeSize);
    },

    inclusionProof(index: number, treeSize: number): Buffer[] {
      checkSize(treeSize, 'size');
      return buildInclusionProof(source, index, treeSize);
    },

    consistencyProof(size1: number, size2: number): Buffer[] {
      checkSize(size2, 'size2');
      return buildConsistencyProof(source, size1, size2);
    },

    nodes(fromSize: number, toSize: number): NodeRun[] {
      checkSize(toSize, 'toSize');
      if (!Number.isSafeInteger(fromSize) || fromSize < 0 || fromSize > toSize) {
        throw new TypeError('fromSize must be an integer between 0 and toSize');
      }
      const runs: NodeRun[] = [];
      for (const [level, first, last] of nodeRanges(fromSize, toSize)) {
        const [count, hashes] = selectLevelBlob.get(level, first, last)!;
        if (count === last - first + 1 && hashes?.length === count * HASH_SIZE) runs.push({ level, first, hashes });
        else runs.push(...toRuns(selectLevelRange.all(level, first, last).map(([index, hash]) => [level, index, hash] as const)));
      }
      return runs;
    },
  };
}
