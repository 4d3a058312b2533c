/**
 * `hdx audit query` answers from the verified log, not from the gateway's search (issue 14.9a). The
 * gateway searches through SQLite expression indexes that no check of the log covers: one corrupted index
 * page makes its filtered answer miss events while `hdx audit verify` passes. Here a real page of
 * `audit_transfer` is corrupted in the stopped gateway's file; the officer's query still returns every
 * event of the transfer and names the ones the gateway's search left out.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../compliance/verify.js';
import type { QueryEventsResponse } from '../../proto/gen/hdx/v1/audit.js';
import { QueryEventsRequest } from '../../proto/gen/hdx/v1/audit.js';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { allEvents, parse, populate, restartableGateway, runAuditCli, type Traffic } from './support.js';
import { corruptIndexEntry } from './tamper.js';

let ex: TestExchange;
let g: ReturnType<typeof restartableGateway>;
let traffic: Traffic;
let dataDir: string;
const identity = () => ex.partyDir('szdex');

beforeAll(async () => {
  ex = await createTestExchange();
  dataDir = join(ex.root, 'gateway-data');
  g = restartableGateway(ex, dataDir);
  await g.start();
  traffic = await populate(ex, g.s, 4);
}, 60_000);

afterAll(async () => {
  await g?.stop();
  ex?.cleanup();
});

/** The gateway's own filtered answer, as the old `hdx audit query` printed it. */
async function gatewaySearch(transferId: string): Promise<number[]> {
  const stream = g.s.regulator.clients.audit.queryEvents(QueryEventsRequest.fromPartial({ transferId }));
  const seqs: number[] = [];
  for await (const m of stream as AsyncIterable<QueryEventsResponse>) if (m.event) seqs.push(Number(m.event.seq));
  return seqs;
}

const jsonLines = (out: string) => out.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; transfer?: string });

describe('audit query over a corrupted search index', () => {
  it('returns every event of the transfer and names the events the gateway’s search left out', async () => {
    const transferId = traffic.transfers[0]!.transferId;
    const expected = (await allEvents(g.s.regulator)).map(parse).filter((e) => e['transfer'] === transferId).map((e) => e.seq);
    expect(expected.length).toBeGreaterThanOrEqual(3);

    const before = await runAuditCli('audit', 'query', '--identity', identity(), '--gateway', g.gw.address, '--transfer', transferId, '--json');
    expect(before.err).toBe('');
    expect(before.exitCode).toBe(0);
    expect(jsonLines(before.out).map((e) => e.seq)).toEqual(expected);

    await g.stop();
    corruptIndexEntry(join(dataDir, 'gateway.db'), 'audit_transfer', transferId);
    await g.start();

    // The damage is real: the gateway's search now misses an event, and the log itself still verifies.
    const searched = await gatewaySearch(transferId);
    const hidden = expected.filter((seq) => !searched.includes(seq));
    expect(hidden.length).toBeGreaterThan(0);
    expect((await verifyLog(g.s.regulator, { statePath: join(ex.root, 'newcomer.json') })).ok).toBe(true);

    const after = await runAuditCli('audit', 'query', '--identity', identity(), '--gateway', g.gw.address, '--transfer', transferId, '--json');
    expect(jsonLines(after.out).map((e) => e.seq)).toEqual(expected);
    expect(after.exitCode).toBe(1);
    expect(after.err).toContain(`✗ the gateway’s own search disagrees with the verified log: it left out event${hidden.length > 1 ? 's' : ''} ${hidden.join(', ')} `);

    const text = await runAuditCli('audit', 'query', '--identity', identity(), '--gateway', g.gw.address, '--transfer', transferId);
    expect(text.out).toContain(`${expected.length} event(s) of the log verified up to`);
    for (const seq of expected) expect(text.out).toMatch(new RegExp(`^ +${seq}  `, 'm'));
  });

  it('the other filters and the patient filter are applied to the verified events too', async () => {
    const t = traffic.transfers.find((x) => x.insurerId === 'pingan-health')!;
    const events = (await allEvents(g.s.regulator)).map(parse);
    const { writeFileSync } = await import('node:fs');
    const idFile = join(ex.root, 'patient.txt');
    writeFileSync(idFile, `${t.nationalId}\n`, { mode: 0o600 });
    const patientRun = await runAuditCli('audit', 'query', '--identity', identity(), '--gateway', g.gw.address, '--patient-id-file', idFile, '--json');
    expect(patientRun.exitCode).toBe(0);
    const ref = events.find((e) => e['transfer'] === t.transferId && e['patient'])!['patient'];
    expect(jsonLines(patientRun.out).map((e) => e.seq)).toEqual(events.filter((e) => e['patient'] === ref).map((e) => e.seq));
    expect(patientRun.out + patientRun.err).not.toContain(t.nationalId);

    const consentRun = await runAuditCli('audit', 'query', '--identity', identity(), '--gateway', g.gw.address, '--consent', t.consentId, '--party', 'pingan-health', '--limit', '2', '--json');
    expect(consentRun.exitCode).toBe(0);
    const byConsent = events.filter((e) => e['consent'] === t.consentId && (e['actor'] === 'pingan-health' || (e['parties'] as string[]).includes('pingan-health')));
    expect(jsonLines(consentRun.out).map((e) => e.seq)).toEqual(byConsent.slice(0, 2).map((e) => e.seq));
  });
});
