/**
 * The console's patient page answers from its verified snapshot, not from the gateway's search: the
 * gateway says which patient hash it searched with and the snapshot is filtered on it, as `hdx audit
 * query --patient-id-file` does. Here a real page of the `audit_patient` index is corrupted in the
 * stopped gateway's file: the gateway's search then misses events, the page still lists every verified
 * event and recipient, and names the events the gateway left out.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole } from '../../compliance/console/server.js';
import { servedAnswer } from '../../compliance/query.js';
import { allEvents, parse, populate, restartableGateway, type Traffic } from '../audit/support.js';
import { corruptIndexEntry } from '../audit/tamper.js';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { csrfOf, httpCall } from './support.js';

let ex: TestExchange;
let g: ReturnType<typeof restartableGateway>;
let dataDir: string;
let traffic: Traffic;

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

/** The patient page's answer for `nationalId`, from a console started on the gateway as it is now. */
async function patientPage(nationalId: string): Promise<string> {
  const console_ = await startConsole({ session: g.s.regulator, statePath: join(ex.root, 'officer.json') });
  try {
    const port = Number(new URL(console_.origin).port);
    const login = await httpCall(port, new URL(console_.loginUrl).pathname + new URL(console_.loginUrl).search);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const csrf = csrfOf((await httpCall(port, '/patient', { headers: { Cookie: cookie } })).body);
    const reply = await httpCall(port, '/patient', {
      method: 'POST',
      body: new URLSearchParams({ csrf, patientId: nationalId }).toString(),
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: console_.origin },
    });
    expect(reply.status, reply.body).toBe(200);
    expect(reply.body).not.toContain(nationalId);
    return reply.body;
  } finally {
    await console_.close();
  }
}

const listed = (page: string) => [...page.matchAll(/<tr><td[^>]*>(\d+)<\/td>/g)].map((m) => Number(m[1]));
const recipients = (page: string) => [.../<ul id="recipients">(.*?)<\/ul>/s.exec(page)![1]!.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1]);

describe('the console’s patient page over a corrupted search index', () => {
  it('lists every verified event about the patient and names the ones the gateway’s search left out', async () => {
    // The first patient consented to both insurers.
    const patient = traffic.transfers[0]!.nationalId;
    const events = (await allEvents(g.s.regulator)).map(parse);
    const ref = events.find((e) => e['transfer'] === traffic.transfers[0]!.transferId && e['patient'])!['patient'] as string;
    const expected = events.filter((e) => e['patient'] === ref).map((e) => e.seq);
    expect(expected.length).toBeGreaterThanOrEqual(3);

    const before = await patientPage(patient);
    expect(listed(before)).toEqual(expected);
    expect(recipients(before)).toEqual(['pingan-health', 'taikang-online']);
    expect(before).not.toContain('id="left-out"');
    expect(before).not.toContain('id="unverified"');

    await g.stop();
    corruptIndexEntry(join(dataDir, 'gateway.db'), 'audit_patient', ref);
    await g.start();

    // The damage is real: the gateway's own search now misses events of this patient.
    const { served } = await servedAnswer(g.s.regulator, { patientNationalId: patient }, events.length);
    const hidden = expected.filter((seq) => !served.has(seq));
    expect(hidden.length).toBeGreaterThan(0);

    const after = await patientPage(patient);
    expect(listed(after)).toEqual(expected);
    expect(recipients(after)).toEqual(['pingan-health', 'taikang-online']);
    expect(after).toMatch(new RegExp(`id="left-out">⚠ The gateway’s own search left out these verified events about this patient [^<]*: ${hidden.join(', ')}</p>`));
    expect(after).not.toContain('id="unverified"');
  });
});
