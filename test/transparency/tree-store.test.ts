/**
 * The gateway's SQLite Merkle tree (gateway/audit/tree-store.ts), on a real temporary database file:
 * every proof it builds for sizes 1..300 verifies with the independent verifier, flipped bits fail,
 * the append-only triggers hold, and editing the table behind the triggers' back is detected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTreeStore, type TreeStore } from '../../gateway/audit/tree-store.js';
import {
  MemorySubtreeSource,
  ProofError,
  eventLeafHash,
  inclusionProof,
  rootFromLeaves,
  verifyConsistency,
  verifyInclusion,
} from '../../keys/transparency/index.js';

const N = 300;
const leaves = Array.from({ length: N }, (_, i) => eventLeafHash({ seq: i, type: 'audit.test', at: 1_700_000_000 + i }));

let dir: string;
let db: Database.Database;
let store: TreeStore;
/** roots[s] = the root of the first s leaves, computed independently of the store. */
const roots: Buffer[] = [];

function open(file: string): Database.Database {
  const conn = new Database(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = FULL');
  return conn;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdx-tree-store-'));
  db = open(join(dir, 'audit.db'));
  store = createTreeStore(db);
  // Appends in several transactions, as the gateway would (one per group commit).
  for (let start = 0; start < N; start += 37) {
    db.transaction(() => {
      for (let i = start; i < Math.min(N, start + 37); i++) expect(store.append(leaves[i]!)).toBe(i + 1);
    })();
  }
  for (let s = 0; s <= N; s++) roots.push(rootFromLeaves(leaves.slice(0, s)));
});

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const flip = (b: Buffer, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('tree store: roots and proofs', () => {
  it('has the size and, for every size, the root of the leaves', () => {
    expect(store.size()).toBe(N);
    for (let s = 0; s <= N; s++) expect(store.root(s).equals(roots[s]!), `size ${s}`).toBe(true);
    expect(store.root().equals(roots[N]!)).toBe(true);
  });

  it('stores exactly the complete subtrees', () => {
    const count = db.prepare('SELECT level, count(*) AS n FROM merkle_nodes GROUP BY level ORDER BY level').all() as {
      level: number;
      n: number;
    }[];
    expect(count).toEqual(
      Array.from({ length: 9 }, (_, level) => ({ level, n: Math.floor(N / 2 ** level) })).filter((r) => r.n > 0),
    );
  });

  it('inclusion proofs for every leaf of every size 1..300 verify', () => {
    const failures: string[] = [];
    for (let s = 1; s <= N; s++) {
      for (let i = 0; i < s; i++) {
        try {
          verifyInclusion(i, s, leaves[i]!, store.inclusionProof(i, s), roots[s]!);
        } catch {
          failures.push(`${i}/${s}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  /** size1 values checked for a given size2: all of them up to 100, then a representative spread. */
  const size1s = (s2: number): number[] =>
    s2 <= 100
      ? Array.from({ length: s2 }, (_, i) => i + 1)
      : [...new Set([1, 2, 3, 64, 65, 127, 128, 129, 255, 256, s2 >> 2, s2 >> 1, s2 - 2, s2 - 1, s2, 1 + ((s2 * 37) % (s2 - 1)), 1 + ((s2 * 101) % (s2 - 1))])]
          .filter((x) => x >= 1 && x <= s2)
          .sort((a, b) => a - b);

  it('consistency proofs for all pairs up to 100 and a spread of size1 for every size2 up to 300 verify', () => {
    const failures: string[] = [];
    let checked = 0;
    for (let s2 = 1; s2 <= N; s2++) {
      for (const s1 of size1s(s2)) {
        checked++;
        try {
          verifyConsistency(s1, s2, store.consistencyProof(s1, s2), roots[s1]!, roots[s2]!);
        } catch {
          failures.push(`${s1}→${s2}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(7_000);
  });

  it('gives the same proofs as the in-memory source', () => {
    const mem = new MemorySubtreeSource(leaves);
    for (const [i, s] of [[0, 1], [5, 6], [17, 300], [255, 256], [299, 300], [128, 200]] as const) {
      expect(store.inclusionProof(i, s)).toEqual(inclusionProof(mem, i, s));
    }
  });

  it('a flipped bit in any proof element, leaf or root fails', () => {
    let checked = 0;
    const accepted: string[] = [];
    const mustFail = (what: string, fn: () => void): void => {
      checked++;
      try {
        fn();
        accepted.push(what);
      } catch (err) {
        if (!(err instanceof ProofError)) throw err;
      }
    };
    // Every size, three leaves per size (first, middle, last); bit positions vary across cases.
    for (let s = 1; s <= N; s++) {
      for (const i of new Set([0, s >> 1, s - 1])) {
        const proof = store.inclusionProof(i, s);
        proof.forEach((_, k) => {
          const bad = proof.map((p, j) => (j === k ? flip(p, (i * 7 + k * 13 + s) % 256) : p));
          mustFail(`incl ${i}/${s} element ${k}`, () => verifyInclusion(i, s, leaves[i]!, bad, roots[s]!));
        });
        mustFail(`incl ${i}/${s} root`, () => verifyInclusion(i, s, leaves[i]!, proof, flip(roots[s]!, s % 256)));
        mustFail(`incl ${i}/${s} leaf`, () => verifyInclusion(i, s, flip(leaves[i]!, i % 256), proof, roots[s]!));
      }
    }
    // Consistency: every size2, a spread of size1 values, every proof element and both roots.
    for (let s2 = 2; s2 <= N; s2++) {
      for (const s1 of new Set([1, s2 >> 2, s2 >> 1, s2 - 1].filter((x) => x >= 1))) {
        const proof = store.consistencyProof(s1, s2);
        proof.forEach((_, k) => {
          const bad = proof.map((p, j) => (j === k ? flip(p, (s1 * 5 + k * 11 + s2) % 256) : p));
          mustFail(`cons ${s1}→${s2} element ${k}`, () => verifyConsistency(s1, s2, bad, roots[s1]!, roots[s2]!));
        });
        mustFail(`cons ${s1}→${s2} root1`, () => verifyConsistency(s1, s2, proof, flip(roots[s1]!, s1 % 256), roots[s2]!));
        mustFail(`cons ${s1}→${s2} root2`, () => verifyConsistency(s1, s2, proof, roots[s1]!, flip(roots[s2]!, s2 % 256)));
      }
    }
    expect(accepted).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  });

  it('refuses sizes beyond the tree and bad arguments (TypeError)', () => {
    expect(() => store.root(N + 1)).toThrow(TypeError);
    expect(() => store.inclusionProof(0, N + 1)).toThrow(TypeError);
    expect(() => store.inclusionProof(N, N)).toThrow(TypeError);
    expect(() => store.consistencyProof(1, N + 1)).toThrow(TypeError);
    expect(() => store.consistencyProof(0, N)).toThrow(TypeError);
    expect(() => store.consistencyProof(5, 4)).toThrow(TypeError);
    expect(() => db.transaction(() => store.append(Buffer.alloc(31)))()).toThrow(TypeError);
  });
});

describe('tree store: transactions and connections', () => {
  it('append must run inside a transaction', () => {
    expect(() => store.append(leaves[0]!)).toThrow(TypeError);
    expect(store.size()).toBe(N);
  });

  it('a rolled-back append leaves no trace, and nothing stale is cached', () => {
    const extra = eventLeafHash({ seq: 'rolled back' });
    expect(() =>
      db.transaction(() => {
        expect(store.append(extra)).toBe(N + 1);
        expect(store.size()).toBe(N + 1);
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    expect(store.size()).toBe(N);
    expect(store.root().equals(roots[N]!)).toBe(true);
  });

  it('a second connection (another process) sees appends at once', () => {
    const other = open(join(dir, 'audit.db'));
    try {
      const otherStore = createTreeStore(other);
      expect(otherStore.size()).toBe(N);
      const extra = eventLeafHash({ seq: N });
      other.transaction(() => otherStore.append(extra))();
      expect(store.size()).toBe(N + 1);
      const newRoot = rootFromLeaves([...leaves, extra]);
      expect(store.root().equals(newRoot)).toBe(true);
      verifyConsistency(N, N + 1, store.consistencyProof(N, N + 1), roots[N]!, newRoot);
      verifyInclusion(N, N + 1, extra, store.inclusionProof(N, N + 1), newRoot);
    } finally {
      other.close();
    }
  });
});

describe('tree store: the remembered right edge (rememberEdge, the gateway\'s one writer)', () => {
  it('writes the same nodes as reading the table per append, across transactions, a rollback and a reopen', () => {
    const file = join(dir, 'edge.db');
    const conn = open(file);
    try {
      const st = createTreeStore(conn, { rememberEdge: true });
      for (let start = 0; start < 150; start += 13) {
        conn.transaction(() => leaves.slice(start, Math.min(150, start + 13)).forEach((h, i) => expect(st.append(h)).toBe(start + i + 1)))();
      }
      // A rolled-back append: the writer's rollback hook calls forget(), and the next append re-reads the edge.
      expect(() =>
        conn.transaction(() => {
          st.append(eventLeafHash({ seq: 'rolled back' }));
          throw new Error('abort');
        })(),
      ).toThrow('abort');
      st.forget();
      conn.transaction(() => leaves.slice(150, 200).forEach((h) => st.append(h)))();
      // Reopened: the edge is read from the table once, at the first append.
      const again = createTreeStore(conn, { rememberEdge: true });
      conn.transaction(() => leaves.slice(200, N).forEach((h, i) => expect(again.append(h)).toBe(201 + i)))();
      const plain = open(join(dir, 'edge-plain.db'));
      const plainStore = createTreeStore(plain);
      plain.transaction(() => leaves.forEach((h) => plainStore.append(h)))();
      const nodes = (c: Database.Database) => c.prepare('SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx').all();
      expect(nodes(conn)).toEqual(nodes(plain));
      plain.close();
      expect(again.root().equals(roots[N]!)).toBe(true);
    } finally {
      conn.close();
    }
  });
});

describe('tree store: append-only', () => {
  // A fresh database per case so these tests do not disturb the one above.
  function fresh(n: number): { conn: Database.Database; st: TreeStore; file: string } {
    const file = join(dir, `tamper-${Math.random().toString(36).slice(2)}.db`);
    const conn = open(file);
    const st = createTreeStore(conn);
    conn.transaction(() => leaves.slice(0, n).forEach((h) => st.append(h)))();
    return { conn, st, file };
  }

  it('refuses UPDATE, DELETE and overwriting inserts', () => {
    const { conn } = fresh(40);
    try {
      const msg = /merkle_nodes is append-only/;
      expect(() => conn.prepare('UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 5').run()).toThrow(msg);
      expect(() => conn.prepare('DELETE FROM merkle_nodes WHERE level = 0 AND idx = 39').run()).toThrow(msg);
      expect(() => conn.prepare('DELETE FROM merkle_nodes').run()).toThrow(msg);
      expect(() => conn.prepare('INSERT OR REPLACE INTO merkle_nodes VALUES (2, 5, zeroblob(32))').run()).toThrow(msg);
      expect(() =>
        conn.prepare('INSERT INTO merkle_nodes VALUES (2, 5, zeroblob(32)) ON CONFLICT DO UPDATE SET hash = excluded.hash').run(),
      ).toThrow(msg);
      expect(() => conn.prepare("INSERT INTO merkle_nodes VALUES (0, 40, x'00')").run()).toThrow(/CHECK/);
      expect(conn.prepare('SELECT count(*) AS n FROM merkle_nodes').get()).toEqual({ n: 40 + 20 + 10 + 5 + 2 + 1 });
    } finally {
      conn.close();
    }
  });

  /** What an operator with direct database access can do: rebuild the table without its triggers. */
  function dropTriggers(conn: Database.Database): void {
    conn.exec(`
      CREATE TABLE merkle_nodes_copy AS SELECT * FROM merkle_nodes;
      DROP TABLE merkle_nodes;
      CREATE TABLE merkle_nodes (level INTEGER, idx INTEGER, hash BLOB, PRIMARY KEY (level, idx)) WITHOUT ROWID;
      INSERT INTO merkle_nodes SELECT * FROM merkle_nodes_copy;
      DROP TABLE merkle_nodes_copy;
    `);
  }

  it('an edited interior node makes every proof that uses it fail against the signed root', () => {
    const { conn, st } = fresh(64);
    const signedRoot = st.root(); // what the gateway signed into a checkpoint before the edit
    conn.close();
    const tampered = open(conn.name);
    try {
      dropTriggers(tampered);
      tampered.prepare('UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND idx = 5').run(Buffer.alloc(32, 0xee));
      const st2 = createTreeStore(tampered); // the gateway restarts on the edited table
      const results = leaves.slice(0, 64).map((h, i) => {
        try {
          verifyInclusion(i, 64, h, st2.inclusionProof(i, 64), signedRoot);
          return 'ok';
        } catch (err) {
          expect(err).toBeInstanceOf(ProofError);
          return 'fail';
        }
      });
      // Node (2,5) covers leaves 20..23: it is the level-2 sibling in the proofs of leaves 16..19.
      expect(results.map((r, i) => (r === 'fail' ? i : -1)).filter((i) => i >= 0)).toEqual([16, 17, 18, 19]);
      // Consistency proofs that include it fail too (old size 20: the edited node is the sibling).
      expect(() => verifyConsistency(20, 64, st2.consistencyProof(20, 64), roots[20]!, signedRoot)).toThrow(ProofError);
    } finally {
      tampered.close();
    }
  });

  it('rewriting history (a leaf and all its ancestors) breaks consistency with the old checkpoint', () => {
    const { conn, st } = fresh(100);
    const oldSize = 100;
    const oldRoot = st.root();
    conn.close();
    const tampered = open(conn.name);
    try {
      dropTriggers(tampered);
      // Replace leaf 42 with another event and recompute every stored ancestor, as a careful forger would.
      const forged = [...leaves.slice(0, 100)];
      forged[42] = eventLeafHash({ seq: 42, type: 'audit.test', at: 0, forged: true });
      const mem = new MemorySubtreeSource(forged);
      const rows = tampered.prepare('SELECT level, idx FROM merkle_nodes').all() as { level: number; idx: number }[];
      const update = tampered.prepare('UPDATE merkle_nodes SET hash = ? WHERE level = ? AND idx = ?');
      tampered.transaction(() => rows.forEach((r) => update.run(mem.subtreeHash(r.level, r.idx), r.level, r.idx)))();

      const st2 = createTreeStore(tampered);
      tampered.transaction(() => leaves.slice(100, 120).forEach((h) => st2.append(h)))();
      const newRoot = st2.root();
      // The forged log is self-consistent…
      verifyInclusion(42, 120, forged[42]!, st2.inclusionProof(42, 120), newRoot);
      // …but a compliance officer holding the old checkpoint catches it.
      expect(st2.root(oldSize).equals(oldRoot)).toBe(false);
      expect(() => verifyConsistency(oldSize, 120, st2.consistencyProof(oldSize, 120), oldRoot, newRoot)).toThrow(ProofError);
      expect(() => verifyInclusion(42, 120, leaves[42]!, st2.inclusionProof(42, 120), newRoot)).toThrow(ProofError);
    } finally {
      tampered.close();
    }
  });
});
