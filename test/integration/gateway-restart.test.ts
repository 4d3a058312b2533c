/**
 * A gateway restart while both adapters follow (a deploy, a crash): each adapter sees UNAVAILABLE, waits,
 * and follows again by itself — the hospital from its stored cursor, the insurer from the gateway's leases —
 * so a record submitted after the restart is decided and reaches the desk, and nothing arrives twice.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { createTestExchange, openSessions, startTestGateway, waitFor, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261122);

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

describe('a gateway restart under following adapters', () => {
  it('both adapters follow again by themselves; the record submitted after the restart reaches the desk once', async () => {
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const reconnects = { hospital: 0, insurer: 0 };
    const hospital = followDecisions(s.nanshan, {
      outDir: join(ex.root, 'his'),
      follow: true,
      signal: abort.signal,
      onDecision: (e) => void seen.push(e),
      onReconnect: () => void (reconnects.hospital += 1),
    });
    const insurer = pullAndDecide(s.taikang, {
      outDir: join(ex.root, 'inbox'),
      follow: true,
      rules: adjudicate,
      signal: abort.signal,
      onReconnect: () => void (reconnects.insurer += 1),
    });

    const before = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.length === 1, 30_000);

    const port = gw.running.port;
    await gw.stop();
    gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
    // The hospital's submit retries UNAVAILABLE while its channel reconnects.
    const after = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.length >= 2, 30_000);

    abort.abort();
    const [followed, decided] = await Promise.all([hospital, insurer]);
    expect(reconnects.hospital).toBeGreaterThan(0);
    expect(reconnects.insurer).toBeGreaterThan(0);
    const submissions = seen.map((e) => (e.ok ? e.decision.submissionId : e.transferId));
    expect(submissions).toEqual([before.submissionId, after.submissionId]);
    expect(followed.received).toBe(2);
    expect(decided.decided.filter((d) => d.ok).map((d) => d.transferId)).toEqual(
      expect.arrayContaining([before.transfers[0]!.transferId, after.transfers[0]!.transferId]),
    );
  }, 60_000);
});
