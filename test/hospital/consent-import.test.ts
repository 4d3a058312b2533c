/**
 * Consents in bulk over one session against a real gateway: CSV and NDJSON rows recorded, a bad row
 * reported by its number and column (the others go on), a refused row with the gateway's status, and the
 * same file imported again recording nothing twice. No output names a patient.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importConsents, readConsentRows, requestOfRow } from '../../hospital-adapter/consent-import.js';
import { unaryCall } from '../../proto/connect.js';
import { createGenerator } from '../../synthetic/index.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const generator = createGenerator(20261203);
const patients = Array.from({ length: 4 }, () => generator.patient());
const digest = (n: number) => `sha256:${String(n).padStart(43, 'A')}`;

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

describe('hdx hospital consent import', () => {
  it('records CSV rows, reports bad rows by number, and records nothing twice on a second import', async () => {
    const csv = join(ex.root, 'desk.csv');
    writeFileSync(
      csv,
      [
        'patient_id,insurer,policy,form_digest,captured_at,categories,valid_from,valid_days',
        `${patients[0]!.nationalId},taikang-online,PL-1,${digest(1)},2026-12-01T09:30:00+08:00,encounter;diagnosis;charges,2026-09-01,365`,
        `${patients[1]!.nationalId},pingan-health,PL-2,${digest(2)},2026-12-01T10:00:00+08:00,,,`,
        `${patients[2]!.nationalId},taikang-online,PL-3,,2026-12-01T10:05:00+08:00,,,`,
        `${patients[3]!.nationalId},no-such-insurer,PL-4,${digest(4)},2026-12-01T10:10:00+08:00,,,`,
      ].join('\n'),
    );
    const rows = readConsentRows(csv);
    const first = await importConsents(s.nanshan, rows);
    expect(first.map((o) => o.ok), JSON.stringify(first.map((o) => (o.ok ? 'ok' : o.status + ' ' + o.reason)))).toEqual([true, true, false, false]);
    expect(first[2]).toMatchObject({ row: 3, status: 'INVALID_ROW', reason: 'form_digest: required' });
    expect(first[3]).toMatchObject({ row: 4, ok: false });
    expect(first[3]!.ok ? '' : first[3]!.status).not.toBe('INTERNAL');
    const text = JSON.stringify(first);
    for (const p of patients) expect(text).not.toContain(p.nationalId);

    const again = await importConsents(s.nanshan, rows);
    expect(again.filter((o) => o.ok).map((o) => o.ok && o.consentId)).toEqual(first.filter((o) => o.ok).map((o) => o.ok && o.consentId));
    expect(again.filter((o) => o.ok && o.replayed)).toHaveLength(2);
    const listed = await unaryCall(s.nanshan.clients.consent, s.nanshan.clients.consent.listConsents, {
      patientNationalId: patients[0]!.nationalId, insurerId: '', includeInactive: false, pageSize: 0, pageToken: '',
    });
    expect(listed.consents).toHaveLength(1);
  }, 60_000);

  it('reads NDJSON, and a bare valid_from date is 00:00 China time', async () => {
    const file = join(ex.root, 'desk.ndjson');
    writeFileSync(file, `${JSON.stringify({ patient_id: patients[0]!.nationalId, insurer: 'pingan-health', policy: 'PL-9', form_digest: digest(9), captured_at: '2026-12-01', categories: ['encounter', 'charges'] })}\n\n`);
    const rows = readConsentRows(file);
    expect(rows).toHaveLength(1);
    const request = requestOfRow({ ...rows[0]!, valid_from: '2026-09-01' }, 'nanshan-people');
    expect(request.terms.validFrom?.toISOString()).toBe('2026-08-31T16:00:00.000Z');
    expect(requestOfRow(rows[0]!, 'nanshan-people').terms.validFrom?.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(() => requestOfRow({ ...rows[0]!, captured_at: '' }, 'nanshan-people')).toThrow('captured_at: required');
    const [outcome] = await importConsents(s.nanshan, rows);
    expect(outcome!.ok).toBe(true);
    expect(() => readConsentRows(join(ex.root, 'desk.xlsx'))).toThrow(/\.csv or \.ndjson/);
  }, 60_000);
});
