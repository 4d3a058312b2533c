/**
 * The PostgreSQL engine as several replicas see it: two stores (two gateway processes' worth of pools,
 * leases and notifiers) on one database. What the storage contract promises for replicas is decided by
 * the database here, not by one process's committer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AuditLog } from '../../gateway/audit/log.js';
import { IdempotencyKeyTaken } from '../../gateway/errors.js';
import { parseInt8 } from '../../gateway/storage/postgres/connect.js';
import { openPostgresStore } from '../../gateway/storage/postgres/store.js';
import type { Store, StoreTx } from '../../gateway/storage/store.js';
import { verifyConsistency, verifyInclusion } from '../../keys/transparency/index.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');

describe.runIf(postgresAvailable())('PostgreSQL engine across replicas', () => {
  let db: TestDatabase;
  let opened: Store[] = [];
  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(() => db?.drop());
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    // Each test starts from an empty database.
    await db.drop();
    db = await testDatabase();
  });

  const open = async () => {
    const store = await openPostgresStore({ dataDir: '/nonexistent', postgres: { connectionString: db.url } });
    opened.push(store);
    return store;
  };

  async function seed(tx: StoreTx, transfers: number): Promise<void> {
    await tx.consents.insert({
      consent_id: 'cns_1', patient_key: Buffer.alloc(32, 1), insurer_id: 'taikang-online', policy_sealed: Buffer.from('s'),
      purpose: 'PURPOSE_DIRECT_SETTLEMENT', categories: '[]', any_hospital: 0, hospitals: '["nanshan-people"]',
      valid_from: T0, valid_until: T0 + 1, capture: '{}', terms_digest: 'sha256:x', recorded_by: 'nanshan-people', recorded_at: T0,
    });
    await tx.submissions.insert({
      submission_id: 'sub_1', hospital_id: 'nanshan-people', bundle_digest: 'sha256:b', purpose: 'PURPOSE_DIRECT_SETTLEMENT',
      encounter_class: 'IMP', service_start: T0, service_end: T0, signature: null, accepted_at: T0,
    });
    for (let i = 0; i < transfers; i++) {
      await tx.transfers.insert({
        transfer_id: `trf_${String(i).padStart(4, '0')}`, submission_id: 'sub_1', insurer_id: 'taikang-online', consent_id: 'cns_1',
        pseudonym: 'p', patient_ref: 'PATIENT-A', envelope: 'e', envelope_digest: 'sha256:e', payload: `jwe-${i}`, created_at: T0 + i,
      });
    }
  }

  it('lets the idempotency key decide between two replicas that both looked before either remembered', async () => {
    const [a, b] = [await open(), await open()];
    let looked = 0;
    let bothLooked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLooked = resolve));
    const attempt = (store: Store, id: string) =>
      store.transaction(async (tx) => {
        expect(await tx.idempotency.lookup('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r')).toBeUndefined();
        if (++looked === 2) bothLooked();
        await barrier;
        await tx.idempotency.remember('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r', { id }, T0);
        return id;
      });
    const outcomes = await Promise.allSettled([attempt(a, 'a'), attempt(b, 'b')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(IdempotencyKeyTaken);
    const winner = (won[0] as PromiseFulfilledResult<string>).value;
    for (const store of [a, b]) {
      expect(await store.reads.idempotency.lookup('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r')).toEqual({ id: winner });
    }
  });

  it('never leases one transfer to two replicas pulling at once (SKIP LOCKED), and leases them all', async () => {
    const [a, b] = [await open(), await open()];
    await a.transaction((tx) => seed(tx, 40));
    const now = T0 + 1000;
    const pull = (store: Store) => store.transaction((tx) => tx.transfers.leaseReady('taikang-online', now, now + 30_000, 4));
    // Many pulls in flight on both: b's batches run while a's hold their row locks.
    const pulls = await Promise.all(Array.from({ length: 12 }, (_, i) => pull(i % 2 ? a : b)));
    const leased = pulls.flat().map((r) => r.transfer_id);
    expect(new Set(leased).size).toBe(leased.length);
    expect(leased.length).toBe(40);
    for (const row of pulls.flat()) expect(row.delivery_attempts).toBe(1);
  });

  it('chains both replicas\' events into one log; the leader integrates them and its checkpoints hold; a follower takes over when it goes', async () => {
    const [a, b] = [await open(), await open()];
    expect(await a.log.lead()).toBe(true);
    expect(await b.log.lead()).toBe(false);
    const logA = await new AuditLog(a, () => T0).load();
    const logB = await new AuditLog(b, () => T0).load();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).transaction(async (tx) => {
          await (i % 2 ? logA : logB).append(tx, { action: 'audit.query', actor: `party-${i}`, outcome: 'ok' });
          await (i % 2 ? logA : logB).append(tx, { action: 'audit.query', actor: `party-${i}`, outcome: 'ok', details: { second: true } });
        }),
      ),
    );
    const rows = await b.reads.audit.range(0, 100);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    let prev = '';
    for (const [i, row] of rows.entries()) {
      const event = JSON.parse(row.event_json) as { prev: string; actor: string };
      expect(event.prev).toBe(prev);
      if (i % 2) expect(event.actor).toBe(JSON.parse(rows[i - 1]!.event_json).actor); // a transaction's events are consecutive
      prev = row.leaf_hash.toString('base64');
    }
    // The follower does not integrate; the leader does, for both.
    expect(await b.log.integrate()).toBeLessThanOrEqual(40);
    expect(await a.log.integrate()).toBe(40);
    const root40 = await b.reads.audit.tree.root(40);
    await a.log.putCheckpoint({ treeSize: 40, rootHash: root40, note: 'n40' }, T0);
    const proof = await b.reads.audit.tree.inclusionProof(7, 40);
    verifyInclusion(7, 40, rows[7]!.leaf_hash, proof, root40);

    await a.close();
    opened = opened.filter((s) => s !== a);
    expect(await b.log.lead()).toBe(true);
    await b.transaction((tx) => logB.append(tx, { action: 'audit.query', actor: 'szdex', outcome: 'ok' }));
    expect(await b.reads.audit.tree.size()).toBe(41); // the new leader integrates in its batch
    const root41 = await b.reads.audit.tree.root();
    verifyConsistency(40, 41, await b.reads.audit.tree.consistencyProof(40, 41), root40, root41);
    // A second checkpoint of size 40 (say, from a stale leader) never replaces the first.
    expect((await b.log.putCheckpoint({ treeSize: 40, rootHash: Buffer.alloc(32), note: 'forged' }, T0)).note).toBe('n40');
  });

  it('gives decision cursors in commit order across replicas', async () => {
    const [a, b] = [await open(), await open()];
    await a.transaction((tx) => seed(tx, 1));
    const cursors = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).transaction((tx) =>
          tx.decisions.insert({
            decision_id: `dec_${i}`, transfer_id: 'trf_0000', submission_id: 'sub_1', hospital_id: 'nanshan-people',
            insurer_id: 'taikang-online', revision_of: null, outcome: 'APPROVED', decision: 'jws', decision_digest: 'd', recorded_at: T0,
          }),
        ),
      ),
    );
    expect([...cursors].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect((await a.reads.decisions.forHospital('nanshan-people', 0, 100)).map((d) => d.cursor)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
  });

  it('migrates once, reopens without migrating again, and refuses edits to the log', async () => {
    const a = await open();
    await a.close();
    opened = [];
    const b = await open();
    await b.transaction(async (tx) => new AuditLog(b, () => T0).append(tx, { action: 'audit.query', actor: 'szdex', outcome: 'ok' }));
    const client = new pg.Client(db.config);
    await client.connect();
    try {
      expect((await client.query('SELECT version FROM hdx_migrations')).rows).toEqual([{ version: 1 }]);
      for (const sql of ['UPDATE audit_events SET actor = $$x$$', 'DELETE FROM merkle_nodes', 'TRUNCATE checkpoints']) {
        await expect(client.query(sql)).rejects.toThrow(/append-only/);
      }
    } finally {
      await client.end();
    }
  });

  it('reads BIGINT as a number and refuses one that would lose precision', () => {
    expect(parseInt8('1764547200000')).toBe(1764547200000);
    expect(() => parseInt8('9007199254740993')).toThrow(RangeError);
  });
});
