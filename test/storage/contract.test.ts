/**
 * The storage contract (gateway/storage/store.ts), run against every engine registered in
 * test/support/stores.ts: what must hold for the domain to be correct on one process and on several
 * replicas. Each engine gets a fresh store per test; nothing here knows which engine it talks to.
 */
import { nodesOfRuns } from '../../gateway/audit/tree-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RootAccumulator } from '../../compliance/root-accumulator.js';
import { AuditLog } from '../../gateway/audit/log.js';
import { IdempotencyKeyTaken } from '../../gateway/errors.js';
import type { Store, StoreTx } from '../../gateway/storage/store.js';
import { leafHash } from '../../keys/transparency/index.js';
import { absenceAllowed } from '../support/postgres.js';
import { testEngines, testStoreFactory } from '../support/stores.js';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const opened: Array<{ store: Store; dir: string }> = [];

afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function consent(tx: StoreTx, id: string): Promise<void> {
  await tx.consents.insert({
    consent_id: id,
    patient_key: Buffer.alloc(32, 1),
    insurer_id: 'taikang-online',
    policy_sealed: Buffer.from('sealed'),
    purpose: 'PURPOSE_DIRECT_SETTLEMENT',
    categories: '[]',
    any_hospital: 0,
    hospitals: '["nanshan-people"]',
    valid_from: T0,
    valid_until: T0 + 86_400_000,
    capture: '{}',
    terms_digest: 'sha256:x',
    recorded_by: 'nanshan-people',
    recorded_at: T0,
  });
}

/** A submission with `count` transfers to taikang-online, created one ms apart. */
async function queue(tx: StoreTx, count: number): Promise<string[]> {
  await consent(tx, 'cns_q');
  await tx.submissions.insert({
    submission_id: 'sub_q',
    hospital_id: 'nanshan-people',
    bundle_digest: 'sha256:b',
    purpose: 'PURPOSE_DIRECT_SETTLEMENT',
    encounter_class: 'IMP',
    service_start: T0,
    service_end: T0,
    signature: null,
    accepted_at: T0,
  });
  const ids = Array.from({ length: count }, (_, i) => `trf_${String(i).padStart(3, '0')}`);
  for (const [i, id] of ids.entries()) {
    await tx.transfers.insert({
      transfer_id: id,
      submission_id: 'sub_q',
      insurer_id: 'taikang-online',
      consent_id: 'cns_q',
      pseudonym: 'p',
      patient_ref: 'PATIENT-A',
      envelope: `env-${id}`,
      envelope_digest: 'sha256:e',
      payload: `jwe-${id}`,
      created_at: T0 + i,
    });
  }
  return ids;
}

it('runs on both engines (PostgreSQL is left out only by HDX_ALLOW_NO_POSTGRES=1, which the run announces)', () => {
  expect(testEngines()).toEqual(absenceAllowed() ? expect.arrayContaining(['sqlite']) : ['sqlite', 'postgres']);
});

for (const engine of testEngines()) {
  describe(`storage contract: ${engine}`, () => {
    async function open(): Promise<Store> {
      const dir = mkdtempSync(join(tmpdir(), `hdx-store-${engine}-`));
      const store = await testStoreFactory(engine)({ dataDir: dir });
      opened.push({ store, dir });
      return store;
    }

    it('lets one of two racing requests with the same idempotency key commit; the other is told, and nothing of it stays', async () => {
      const store = await open();
      const attempt = (id: string) =>
        store.transaction(async (tx) => {
          const seen = await tx.idempotency.lookup<{ id: string }>('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r');
          if (seen) return { replay: seen.id };
          await consent(tx, id);
          // Both have looked before either remembers: the database's unique key must decide.
          await new Promise((resolve) => setImmediate(resolve));
          await tx.idempotency.remember('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r', { id }, T0);
          return { stored: id };
        });
      const outcomes = await Promise.allSettled([attempt('cns_a'), attempt('cns_b')]);
      const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' && 'stored' in o.value ? [o.value.stored] : []));
      expect(stored).toHaveLength(1);
      const other = outcomes.find((o) => !(o.status === 'fulfilled' && 'stored' in o.value))!;
      // Either the engine serialised them (the second saw the first: a replay) or the key refused the second.
      if (other.status === 'rejected') expect(other.reason).toBeInstanceOf(IdempotencyKeyTaken);
      else expect(other.value).toEqual({ replay: stored[0] });
      expect(await store.reads.idempotency.lookup('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:r')).toEqual({ id: stored[0] });
      const loser = stored[0] === 'cns_a' ? 'cns_b' : 'cns_a';
      expect(await store.reads.consents.get(loser)).toBeUndefined();
      await expect(store.reads.idempotency.lookup('nanshan-people', 'GrantConsent', 'key-00000001', 'sha256:other')).rejects.toThrow(/different request/);
    });

    it('leases each ready transfer to one puller at a time, in queue order, and again once the lease ran out', async () => {
      const store = await open();
      const ids = await store.transaction((tx) => queue(tx, 7));
      const now = T0 + 1000;
      const pulls = await Promise.all([0, 1, 2].map(() => store.transaction((tx) => tx.transfers.leaseReady('taikang-online', now, now + 30_000, 3))));
      const leased = pulls.flat().map((row) => row.transfer_id);
      expect(new Set(leased).size).toBe(leased.length);
      expect([...leased].sort()).toEqual(ids);
      for (const pull of pulls) expect(pull.map((r) => r.transfer_id)).toEqual([...pull.map((r) => r.transfer_id)].sort());
      for (const row of pulls.flat()) {
        expect(row).toMatchObject({ state: 'delivered', lease_expires_at: now + 30_000, delivery_attempts: 1, delivered_at: now });
        expect(row.payload).toBe(`jwe-${row.transfer_id}`);
      }
      expect(await store.transaction((tx) => tx.transfers.leaseReady('taikang-online', now + 29_999, now + 60_000, 10))).toEqual([]);
      expect(await store.transaction((tx) => tx.transfers.leaseReady('pingan-health', now, now + 1, 10))).toEqual([]);
      expect(await store.reads.transfers.nextLeaseExpiry('taikang-online')).toBe(now + 30_000);

      const later = now + 30_000;
      const again = await store.transaction((tx) => tx.transfers.leaseReady('taikang-online', later, later + 30_000, 2));
      expect(again.map((r) => [r.transfer_id, r.delivery_attempts, r.delivered_at])).toEqual([
        [ids[0], 2, now],
        [ids[1], 2, now],
      ]);
    });

    it('chains audit events from concurrent transactions into one log, and integrates them into the tree', async () => {
      const store = await open();
      let clock = T0;
      const log = await new AuditLog(store, () => (clock += 1)).load();
      const sizes: number[] = [];
      store.notifier.subscribe('audit', (size) => sizes.push(Number(size)));
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.transaction(async (tx) => {
            await log.append(tx, { action: 'audit.query', actor: `party-${i}`, outcome: 'ok' });
            await log.append(tx, { action: 'audit.query', actor: `party-${i}`, outcome: 'ok', details: { second: true } });
          }),
        ),
      );
      const rows = await store.reads.audit.range(0, 100);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      let prev = '';
      for (const row of rows) {
        const event = JSON.parse(row.event_json) as { seq: number; prev: string; actor: string };
        expect(event.seq).toBe(row.seq);
        expect(event.prev).toBe(prev);
        expect(row.leaf_hash.equals(leafHash(Buffer.from(row.event_json, 'utf8')))).toBe(true);
        prev = row.leaf_hash.toString('base64');
      }
      // A transaction's events are consecutive.
      for (let i = 0; i < 24; i += 2) expect(JSON.parse(rows[i]!.event_json).actor).toBe(JSON.parse(rows[i + 1]!.event_json).actor);
      expect(await store.reads.audit.size()).toBe(24);
      expect(Math.max(...sizes)).toBe(24);
      expect(await store.log.lead()).toBe(true);
      expect(await store.log.integrate()).toBe(24);
      expect(await store.reads.audit.tree.size()).toBe(24);
      // The stored nodes, as ListTreeNodes serves them: the nodes the officer's tool builds from the
      // leaves, in the same order, whatever the pages.
      const built: Array<{ level: number; index: number; hash: Buffer }> = [];
      const acc = new RootAccumulator((level, index, hash) => built.push({ level, index, hash }));
      for (const row of rows) acc.push(row.leaf_hash);
      expect(nodesOfRuns(await store.reads.audit.tree.nodes(0, 24))).toEqual(built);
      expect(nodesOfRuns([...(await store.reads.audit.tree.nodes(0, 5)), ...(await store.reads.audit.tree.nodes(5, 24))])).toEqual(built);
      const root = await store.reads.audit.tree.root(24);
      const cp = { treeSize: 24, rootHash: root, note: 'note-24' };
      expect(await store.log.putCheckpoint(cp, T0)).toEqual(cp);
      // A second checkpoint of one size never replaces the first.
      expect(await store.log.putCheckpoint({ ...cp, rootHash: Buffer.alloc(32), note: 'forged' }, T0 + 1)).toEqual(cp);
      expect(await store.reads.audit.checkpoints.latest()).toEqual(cp);
    });

    it('rolls back a failing item alone: the others in its batch commit, the log has no gap, and only committed items wake anyone', async () => {
      const store = await open();
      const log = await new AuditLog(store, () => T0).load();
      const woken: string[] = [];
      store.notifier.subscribe('transfer:taikang-online', (payload) => woken.push(payload));
      const item = (id: string, fail: boolean) =>
        store.transaction(async (tx) => {
          await consent(tx, id);
          await log.append(tx, { action: 'consent.grant', actor: 'nanshan-people', outcome: 'ok', consent: id });
          tx.notify('transfer:taikang-online', id);
          // Uncommitted writes are the transaction's own: committed-state reads do not see them.
          expect(await store.reads.consents.get(id)).toBeUndefined();
          expect((await tx.consents.get(id))?.consent_id).toBe(id);
          if (fail) throw new Error(`item ${id} fails`);
          return id;
        });
      const outcomes = await Promise.allSettled([item('cns_1', false), item('cns_2', true), item('cns_3', false)]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.reads.consents.get('cns_1'))?.consent_id).toBe('cns_1');
      expect(await store.reads.consents.get('cns_2')).toBeUndefined();
      expect((await store.reads.consents.get('cns_3'))?.consent_id).toBe('cns_3');
      const events = (await store.reads.audit.range(0, 10)).map((r) => JSON.parse(r.event_json) as { seq: number; consent: string });
      expect(events.map((e) => [e.seq, e.consent])).toEqual([
        [0, 'cns_1'],
        [1, 'cns_3'],
      ]);
      expect(woken.sort()).toEqual(['cns_1', 'cns_3']);
      // The chain continues from the last committed event.
      await store.transaction((tx) => log.append(tx, { action: 'audit.query', actor: 'szdex', outcome: 'ok' }));
      const [, last, next] = await store.reads.audit.range(0, 10);
      expect(JSON.parse(next!.event_json).prev).toBe(last!.leaf_hash.toString('base64'));
    });
  });
}
