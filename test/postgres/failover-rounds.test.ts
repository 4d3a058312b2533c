/**
 * Failover in rounds (issue 12 item 4; failover.test.ts kills the serving leader of two) on a real
 * throwaway cluster: three `hdx gateway serve --postgres` processes, real adapters given every address, a
 * modest load; a follower and then the leader SIGKILLed, both restarted (test/support/failover.ts). Nothing acknowledged is lost or duplicated, the adapters carry on
 * through the survivors, another replica takes the lease and signs on, and the officer's log verifies
 * consistent with the checkpoint saved before the kills. Waits on conditions only; the timeout is generous.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFailover } from '../support/failover.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

describe.runIf(postgresAvailable())('gateway replicas failing over', () => {
  let db: TestDatabase;
  let root: string;
  beforeAll(async () => {
    db = await testDatabase();
    root = mkdtempSync(join(tmpdir(), 'hdx-failover-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('a follower and then the leader SIGKILLed under load: nothing acknowledged lost or duplicated, the lease moves, the log verifies', async () => {
    const r = await runFailover({ root, postgresUrl: db.url, rounds: 1, submitters: 2 });
    expect(r.kills).toEqual({ followers: 1, leaders: 1 });
    expect(r.acknowledged).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toEqual({ submissions: 0, transfers: 0, deliveries: 0, decisions: 0, atHospital: 0 });
    expect(r.delivered).toBe(r.transfers);
    expect(r.decided).toBe(r.transfers);
    expect(r.atHospital).toBe(r.transfers);
    // Both adapters were in front of the follower killed first, so both moved on.
    expect(r.reconnects.insurer).toBeGreaterThan(0);
    expect(r.reconnects.hospital).toBeGreaterThan(0);
    expect(r.leaderChanges).toBe(1);
    expect(r.checkpoints.grewAfter).toEqual([true]);
    expect(r.checkpoints.final).toBe(r.checkpoints.events);
    expect(r.before.failure).toBeUndefined();
    expect(r.after.failure).toBeUndefined();
    expect(r.after.ok).toBe(true);
    expect(r.after.treeSize).toBe(r.checkpoints.events);
    expect(r.after.proved.join('\n')).toContain(`size ${r.before.treeSize} → ${r.after.treeSize} proved consistent`);
  }, 600_000);
});
