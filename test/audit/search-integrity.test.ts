/**
 * Filtered audit queries read the verified bytes. An operator with write access who drops the append-only
 * triggers and edits an event's search copies (patient, transfer, consent, action, time, parties) cannot
 * hide it from a filtered query: every filter and index is derived from event_json, which the Merkle leaf
 * hashes and the officer verifies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../gateway/audit/log.js';
import { auditQueries, type AuditFilter } from '../../gateway/audit/query.js';
import { createSqliteStore } from '../../gateway/storage/sqlite/store.js';
import { dropAppendOnlyTriggers } from './tamper.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-11-01T08:00:00.000Z');

describe('filtered audit queries', () => {
  it('still find an event whose search copies were edited behind the log’s back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-audit-search-'));
    dirs.push(dir);
    const store = createSqliteStore(join(dir, 'gateway.db'));
    const db = store.db;
    let now = T0;
    const log = new AuditLog(store, () => (now += 1000));
    await store.transaction(async (tx) => {
      await log.append(tx, { action: 'consent.grant', actor: 'nanshan-people', outcome: 'ok', consent: 'cns_other', patient: 'PATIENT-B' });
      await log.append(tx, {
        action: 'transfer.deliver',
        actor: 'taikang-online',
        outcome: 'ok',
        consent: 'cns_1',
        transfer: 'trf_1',
        patient: 'PATIENT-A',
        parties: ['nanshan-people'],
      });
    });
    const queries = auditQueries(db);
    const find = (filter: Omit<AuditFilter, 'afterSeq'>) => queries.page({ afterSeq: -1, ...filter }, 100).map((r) => r.seq);
    const filters: Array<Omit<AuditFilter, 'afterSeq'>> = [
      { patientRef: 'PATIENT-A' },
      { transferId: 'trf_1' },
      { consentId: 'cns_1' },
      { action: 'transfer.deliver' },
      { partyId: 'nanshan-people', action: 'transfer.deliver' },
      { partyId: 'taikang-online' },
      { since: T0 + 1500, until: T0 + 2500 },
    ];
    for (const filter of filters) expect(find(filter), JSON.stringify(filter)).toEqual([1]);

    dropAppendOnlyTriggers(db);
    db.prepare(`UPDATE audit_events SET patient_ref = 'PATIENT-Z', transfer_id = 'trf_9', consent_id = 'cns_9',
      action = 'audit.query', actor = 'szdex', parties = 'szdex', at = 0 WHERE seq = 1`).run();
    for (const filter of filters) expect(find(filter), JSON.stringify(filter)).toEqual([1]);
    expect(find({ patientRef: 'PATIENT-Z' })).toEqual([]);
    await store.close();
  });
});
