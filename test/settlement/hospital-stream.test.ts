/**
 * The hospital's decision stream across adapter restarts: every decision reaches the HIS folder exactly
 * once — after a clean stop, after a crash before the cursor was stored, and while following — and a
 * decision altered on the gateway is set aside, not handed to the HIS.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions, readCursor, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { adjudicateAndDecide } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { createTestExchange, openSessions, startTestGateway, waitFor, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, receive, recordMaker } from './support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(7);

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

/** Submits `n` records from nanshan-people and has taikang-online decide each; returns the decision ids. */
async function decideMany(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const received = await receive(s.taikang, ex.root, submitted.transfers[0]!.transferId);
    ids.push((await adjudicateAndDecide(s.taikang, received, adjudicate)).decisionId);
  }
  return ids;
}

/** What the HIS folder holds: decision ids in file (cursor) order. */
function hisInbox(out: string): string[] {
  const dir = join(out, 'decisions');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { decisionId: string }).decisionId);
}

describe('the hospital decision stream', () => {
  const out = () => join(ex.root, 'his');

  it('resumes without loss or duplicates after a stop, a crash before the cursor was stored, and while following', async () => {
    const first = await decideMany(3);
    const a = await followDecisions(s.nanshan, { outDir: out() });
    expect(a).toMatchObject({ received: 3, refused: 0 });
    expect(hisInbox(out())).toEqual(first);
    const afterFirst = readCursor(out());

    // Stopped while two more were decided: the restart picks up exactly those.
    const second = await decideMany(2);
    const b = await followDecisions(s.nanshan, { outDir: out() });
    expect(b.received).toBe(2);
    expect(hisInbox(out())).toEqual([...first, ...second]);

    // A crash after writing files but before storing the cursor: the same files are written again.
    writeFileSync(join(out(), 'cursor.log'), `${afterFirst}\n`);
    const c = await followDecisions(s.nanshan, { outDir: out() });
    expect(c.received).toBe(2);
    expect(hisInbox(out())).toEqual([...first, ...second]);

    // Following: a new decision arrives while the adapter runs; it stops; two arrive while it is down.
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const running = followDecisions(s.nanshan, { outDir: out(), follow: true, signal: abort.signal, onDecision: (e) => void seen.push(e) });
    const third = await decideMany(1);
    await waitFor(() => seen.length === 1);
    abort.abort();
    expect((await running).received).toBe(1);
    const fourth = await decideMany(2);
    const abort2 = new AbortController();
    const resumed: DecisionEvent[] = [];
    const running2 = followDecisions(s.nanshan, { outDir: out(), follow: true, signal: abort2.signal, onDecision: (e) => void resumed.push(e) });
    await waitFor(() => resumed.length === 2);
    abort2.abort();
    await running2;
    expect(resumed.map((e) => (e.ok ? e.decision.decisionId : e.decisionId))).toEqual(fourth);

    const all = hisInbox(out());
    expect(all).toEqual([...first, ...second, ...third, ...fourth]);
    expect(new Set(all).size).toBe(all.length);
    // One settlement file per stay.
    expect(readdirSync(join(out(), 'settlements'))).toHaveLength(8);
  });

  it('sets aside a decision that was altered on the gateway, and carries on', async () => {
    const [altered, fine] = await decideMany(2);
    // Someone with database access changes an amount in the stored token.
    const row = (await gw.sql.get<{ cursor: number; decision: string }>('SELECT cursor, decision FROM decisions WHERE decision_id = ?', altered))!;
    const [h, p, sig] = row.decision.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.hdx.amounts.payable = payload.hdx.amounts.patientPaid;
    payload.hdx.amounts.patientRemainder = '0.00';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    expect(await gw.sql.run('UPDATE decisions SET decision = ? WHERE cursor = ?', forged, row.cursor)).toBe(1);

    const events: DecisionEvent[] = [];
    const summary = await followDecisions(s.nanshan, { outDir: out(), onDecision: (e) => void events.push(e) });
    expect(summary).toMatchObject({ received: 1, refused: 1 });
    const refusedEvent = events.find((e) => !e.ok);
    expect(refusedEvent && !refusedEvent.ok && refusedEvent.reason).toMatch(/ERR_SIGNATURE/);
    expect(hisInbox(out())).toContain(fine);
    expect(hisInbox(out())).not.toContain(altered);
    expect(readdirSync(join(out(), 'refused'))).toHaveLength(1);
  });
});
