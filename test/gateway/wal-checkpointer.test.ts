import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../gateway/storage/db.js';
import { startWalCheckpointer } from '../../gateway/storage/wal-checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the background WAL checkpointer', () => {
  it('copies committed pages into the database file without the writer checkpointing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-wal-'));
    dirs.push(dir);
    const path = join(dir, 'gateway.db');
    const db = openDatabase(path);
    db.exec('CREATE TABLE blobs (b BLOB)');
    const before = statSync(path).size;
    const insert = db.prepare('INSERT INTO blobs VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 256; i++) insert.run(Buffer.alloc(4096, i));
    })();
    // Committed, in the WAL, below the automatic threshold: the database file has not grown.
    expect(statSync(path).size).toBe(before);
    const errors: string[] = [];
    const checkpointer = startWalCheckpointer(path, { intervalMs: 20, onError: (e) => errors.push(e) });
    const until = Date.now() + 5000;
    while (statSync(path).size < before + 256 * 4096 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await checkpointer.stop();
    expect(statSync(path).size).toBeGreaterThanOrEqual(before + 256 * 4096);
    expect(errors).toEqual([]);
    expect((db.prepare('SELECT COUNT(*) AS n FROM blobs').get() as { n: number }).n).toBe(256);
    db.close();
  });
});
