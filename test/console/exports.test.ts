/** The console's exports as pure functions of a snapshot: CSV quoting and formula guard, JSON Lines as logged. */
import { describe, expect, it } from 'vitest';
import { parseLoggedEvent } from '../../compliance/audit-event.js';
import { exportLines } from '../../compliance/console/exports.js';
import type { Snapshot } from '../../compliance/console/verified-log.js';
import { canonicalJson } from '../../keys/canonical.js';

function snapshotOf(events: Array<Record<string, unknown>>): Snapshot {
  const verified = events.map((e, seq) => {
    const json = canonicalJson({ v: 1, seq, at: '2026-12-01T08:00:00.000Z', prev: '', outcome: 'ok', parties: [], details: {}, ...e });
    return { event: parseLoggedEvent(json), json };
  });
  return {
    report: { ok: true, origin: 'hdx.local/audit/v1', treeSize: verified.length, rootHash: '', proved: [] },
    takenAt: new Date(0),
    events: verified,
  };
}

describe('console exports', () => {
  const snapshot = snapshotOf([
    { action: 'record.deny', actor: 'nanshan-people', details: { reason: '=HYPERLINK("x")' } },
    { action: 'consent.grant', actor: 'a,b "c"', consent: 'cns_1', parties: ['taikang-online', 'pingan-health'] },
  ]);

  it('CSV: a header, one row per event, fields quoted per RFC 4180, a leading = never a formula', () => {
    const rows = [...exportLines('/export/events.csv', snapshot)];
    expect(rows[0]).toBe('seq,at,action,actor,outcome,consent,submission,transfer,decision,parties,reason\r\n');
    expect(rows[1]).toBe(`0,2026-12-01T08:00:00.000Z,record.deny,nanshan-people,ok,,,,,,"'=HYPERLINK(""x"")"\r\n`);
    expect(rows[2]).toBe('1,2026-12-01T08:00:00.000Z,consent.grant,"a,b ""c""",ok,cns_1,,,,taikang-online pingan-health,\r\n');
  });

  it('JSON Lines: each event exactly as logged; FHIR: one AuditEvent per event, traced to its log position', () => {
    expect([...exportLines('/export/events.jsonl', snapshot)]).toEqual(snapshot.events.map((e) => `${e.json}\n`));
    const fhir = [...exportLines('/export/audit-events.fhir.ndjson', snapshot)].map((l) => JSON.parse(l) as { resourceType: string; id: string });
    expect(fhir.map((r) => [r.resourceType, r.id])).toEqual([
      ['AuditEvent', 'hdx-0'],
      ['AuditEvent', 'hdx-1'],
    ]);
  });
});
