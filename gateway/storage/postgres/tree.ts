/**
 * The audit log's Merkle tree on PostgreSQL: the same table of complete-subtree hashes as SQLite's
 * (../../audit/tree-store.ts), written by integration rather than per append (sequence-then-integrate).
 *
 * Reads: a root or proof needs O(log n) nodes whose coordinates depend only on the sizes, so the proof
 * builder runs once over a source that records what it asks for, the nodes come back in one query, and it
 * runs again over them. Nodes of a size ≤ the committed tree size never change (append-only), so the two
 * queries need no common snapshot.
 */
import {
  HASH_SIZE,
  consistencyProof as buildConsistencyProof,
  inclusionProof as buildInclusionProof,
  nodeHash,
  rootAt,
  type SubtreeSource,
} from '../../../keys/transparency/index.js';
import { TreeStoreCorrupt, toRuns, nodeRanges } from '../../audit/tree-store.js';
import type { TreeReads } from '../store.js';
import type { Queryable } from './connect.js';

type Coordinate = [level: number, index: number];
const keyOf = (level: number, index: number) => `${level}:${index}`;

async function fetchNodes(q: Queryable, coordinates: Coordinate[]): Promise<Map<string, Buffer>> {
  const nodes = new Map<string, Buffer>();
  if (coordinates.length === 0) return nodes;
  const { rows } = await q.query<{ level: number; idx: number; hash: Buffer }>(
    `SELECT n.level, n.idx, n.hash FROM merkle_nodes n
     JOIN unnest($1::smallint[], $2::bigint[]) AS c(level, idx) ON n.level = c.level AND n.idx = c.idx`,
    [coordinates.map((c) => c[0]), coordinates.map((c) => c[1])],
  );
  for (const row of rows) nodes.set(keyOf(row.level, row.idx), row.hash);
  return nodes;
}

/** Runs `build` over the stored nodes it needs, fetched in one query. */
async function withNodes<T>(q: Queryable, build: (source: SubtreeSource) => T): Promise<T> {
  const wanted: Coordinate[] = [];
  const dummy = Buffer.alloc(HASH_SIZE);
  build({ subtreeHash: (level, index) => (wanted.push([level, index]), dummy) });
  const nodes = await fetchNodes(q, wanted);
  return build({
    subtreeHash(level, index) {
      const hash = nodes.get(keyOf(level, index));
      if (!hash || hash.length !== HASH_SIZE) throw new TreeStoreCorrupt('audit tree node is missing or malformed');
      return hash;
    },
  });
}

async function treeSize(q: Queryable, lock = false): Promise<number> {
  return (await q.query<{ size: number }>(`SELECT size FROM tree_head${lock ? ' FOR UPDATE' : ''}`)).rows[0]!.size;
}

export function treeReads(q: Queryable): TreeReads {
  const checkSize = async (value: unknown, what: string): Promise<number> => {
    const current = await treeSize(q);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > current) {
      throw new TypeError(`${what} must be an integer between 0 and the tree size`);
    }
    return current;
  };
  return {
    size: () => treeSize(q),
    async root(size?: number) {
      const at = size === undefined ? await treeSize(q) : (await checkSize(size, 'size'), size);
      return withNodes(q, (source) => rootAt(source, at));
    },
    async inclusionProof(index, size) {
      await checkSize(size, 'size');
      return withNodes(q, (source) => buildInclusionProof(source, index, size));
    },
    async consistencyProof(size1, size2) {
      await checkSize(size2, 'size2');
      return withNodes(q, (source) => buildConsistencyProof(source, size1, size2));
    },
    async nodes(fromSize, toSize) {
      await checkSize(toSize, 'toSize');
      if (!Number.isSafeInteger(fromSize) || fromSize < 0 || fromSize > toSize) {
        throw new TypeError('fromSize must be an integer between 0 and toSize');
      }
      // One index range per level (see nodeRanges), each read along the primary key.
      const ranges = nodeRanges(fromSize, toSize);
      if (ranges.length === 0) return [];
      const { rows } = await q.query<{ level: number; idx: number; hash: Buffer }>(
        `SELECT n.level, n.idx, n.hash FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r(level, first, last)
         JOIN merkle_nodes n ON n.level = r.level AND n.idx BETWEEN r.first AND r.last ORDER BY n.level, n.idx`,
        [ranges.map((r) => r[0]), ranges.map((r) => r[1]), ranges.map((r) => r[2])],
      );
      return toRuns(rows.map((r) => [r.level, Number(r.idx), r.hash] as const));
    },
  };
}

/** Leaves integrated per statement: bounds one integration's memory and transaction. */
const CHUNK = 4096;

/**
 * Integrates the sequenced events after the tree's size into the tree; returns the new size. Runs inside
 * the caller's transaction on `q`, under tree_head's row lock (so two integrators, should two ever think
 * they lead, take turns and the second finds nothing left). Events commit in seq order (each append holds
 * the log head's lock to COMMIT), so the committed events are always a prefix of the log.
 */
export async function integrateInto(q: Queryable): Promise<number> {
  let size = await treeSize(q, true);
  for (;;) {
    const { rows } = await q.query<{ seq: number; leaf_hash: Buffer }>(
      'SELECT seq, leaf_hash FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [size, CHUNK],
    );
    if (rows.length === 0) return size;
    // The complete subtrees left of leaf `size` (one per set bit): every sibling the new leaves need.
    const frontier: Coordinate[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      if (count % 2 === 1) frontier.push([level, count - 1]);
    }
    const nodes = await fetchNodes(q, frontier);
    const written: Array<[number, number, Buffer]> = [];
    const put = (level: number, index: number, hash: Buffer) => {
      nodes.set(keyOf(level, index), hash);
      written.push([level, index, hash]);
    };
    for (const row of rows) {
      if (row.seq !== size) throw new TreeStoreCorrupt('audit log has a gap before its next leaf');
      let hash = row.leaf_hash;
      let level = 0;
      let index = size;
      put(level, index, hash);
      while (index % 2 === 1) {
        const sibling = nodes.get(keyOf(level, index - 1));
        if (!sibling) throw new TreeStoreCorrupt('audit tree node is missing or malformed');
        hash = nodeHash(sibling, hash);
        level++;
        index = (index - 1) / 2;
        put(level, index, hash);
      }
      size++;
    }
    await q.query(
      `WITH n AS (INSERT INTO merkle_nodes (level, idx, hash)
         SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[]))
       UPDATE tree_head SET size = $4`,
      [written.map((w) => w[0]), written.map((w) => w[1]), written.map((w) => w[2]), size],
    );
  }
}
