/**
 * ListEvents' packed pages as SQLite packs them (`packedRange`: one row of concatenated bytes, lengths
 * and leaves) hold exactly what the rows hold, in order; a page with a gap is not packed by SQLite, and
 * `packEvents` refuses it too, so the officer gets it one event per message and names the gap.
 * Also the stored Merkle nodes read as one blob per level: the same runs as row by row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWholePage, packEvents } from '../../gateway/audit/packed-events.js';
import { auditQueries } from '../../gateway/audit/query.js';
import { AuditLog } from '../../gateway/audit/log.js';
import { createTreeStore, toRuns } from '../../gateway/audit/tree-store.js';
import { createSqliteStore, type SqliteStore } from '../../gateway/storage/sqlite/store.js';
import { dropAppendOnlyTriggers } from './tamper.js';

let dir: string;
let store: SqliteStore;
const SIZE = 300;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdx-packed-'));
  store = createSqliteStore(join(dir, 'gateway.db'));
  const log = new AuditLog(store);
  await store.transaction(async (tx) => {
    // Non-ASCII text too: lengths are bytes, not characters.
    for (let i = 0; i < SIZE; i++) await log.append(tx, { action: 'consent.grant', actor: 'nanshan-people', outcome: 'ok', parties: ['pingan-health'], details: { note: i % 7 === 0 ? `病历 ${i}` : `n${i}` } });
  });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('packed pages', () => {
  it('hold the rows’ bytes, lengths and stored leaves, in order, for any page', () => {
    const queries = auditQueries(store.db);
    for (const [start, limit] of [[0, 100], [37, 250], [290, 100]] as const) {
      const packed = queries.packedRange(start, limit)!;
      expect(isWholePage(packed, start)).toBe(true);
      expect(packed).toEqual(packEvents(queries.range(start, limit)));
      expect(packed.jsonLengths).toHaveLength(Math.min(limit, SIZE - start));
    }
    expect(queries.packedRange(SIZE, 10)).toBeUndefined();
  });

  it('are not made of a page with a gap, by SQLite or from the rows', () => {
    dropAppendOnlyTriggers(store.db);
    store.db.prepare('DELETE FROM audit_events WHERE seq = 120').run();
    const queries = auditQueries(store.db);
    expect(queries.packedRange(100, 50)).toBeUndefined();
    expect(packEvents(queries.range(100, 50))).toBeUndefined();
    expect(queries.packedRange(0, 100)).toBeDefined();
  });

  it('stored nodes: one blob per whole level stretch gives the same runs as the rows, and a gap still breaks its run', () => {
    const tree = createTreeStore(store.db);
    const rowWise = (from: number, to: number) => {
      const rows = store.db.prepare('SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx').raw().all() as Array<[number, number, Buffer]>;
      return toRuns(rows.filter(([level, idx]) => (idx + 1) * 2 ** level > from && (idx + 1) * 2 ** level <= to));
    };
    expect(tree.nodes(0, SIZE)).toEqual(rowWise(0, SIZE));
    expect(tree.nodes(77, 200)).toEqual(rowWise(77, 200));
    dropAppendOnlyTriggers(store.db); // createTreeStore made them again
    store.db.prepare('DELETE FROM merkle_nodes WHERE level = 1 AND idx = 40').run();
    const runs = tree.nodes(0, SIZE);
    expect(runs).toEqual(rowWise(0, SIZE));
    expect(runs.filter((r) => r.level === 1)).toHaveLength(2);
  });
});
