/**
 * Decision tokens are not kept for ever: the hospital acknowledges what it stored, that starts the
 * retention period, and then the gateway drops the token (keeping digest, outcome and times) and says so in
 * the audit log. Only the hospital itself can acknowledge its decisions.
 */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions } from '../../hospital-adapter/decisions.js';
import { adjudicateAndDecide } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { unaryCall } from '../../proto/connect.js';
import { purgeExpiredDecisions } from '../../gateway/settlement/retention.js';
import type { DecisionRow } from '../../gateway/storage/decisions.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, expectStatus, receive, recordMaker } from './support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261123);
const RETENTION_MS = 300;
/** The gateway's clock runs this far ahead of the real one: the test moves time instead of sleeping. */
let ahead = 0;

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { settings: { retentionMs: RETENTION_MS }, clock: () => Date.now() + ahead });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const rowOf = async (transferId: string) => (await gw.running.gateway.store.reads.decisions.forTransfer(transferId))[0]!;
const actions = async () =>
  (await gw.running.gateway.store.reads.audit.range(0, 100_000)).map((r) => (JSON.parse(r.event_json) as { action: string }).action);

async function decided(): Promise<string> {
  const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
  const transferId = submitted.transfers[0]!.transferId;
  await adjudicateAndDecide(s.taikang, await receive(s.taikang, join(ex.root, 'inbox'), transferId), adjudicate);
  return transferId;
}

describe('decision retention', () => {
  it('only the hospital acknowledges its own decisions, through a cursor the stream sent', async () => {
    const transferId = await decided();
    const { cursor } = await rowOf(transferId);
    const ack = (session: Sessions['nanshan'] | Sessions['taikang'], throughCursor: number) =>
      unaryCall(session.clients.settlement, session.clients.settlement.acknowledgeDecisions, { throughCursor });
    expect(await ack(s.szu, cursor + 1000)).toEqual({ acknowledged: 0 });
    expect((await rowOf(transferId)).acknowledged_at).toBeNull();
    await expectStatus(ack(s.taikang, cursor), status.PERMISSION_DENIED);
    await expectStatus(ack(s.nanshan, 0), status.INVALID_ARGUMENT, /cursor/);
  });

  it('starts when the hospital has stored them; afterwards the token is dropped, audited, and not streamed again', async () => {
    const transferId = await decided();
    const followed = await followDecisions(s.nanshan, { outDir: join(ex.root, 'his') });
    expect(followed.received).toBeGreaterThanOrEqual(1);
    const acknowledged = await rowOf(transferId);
    expect(acknowledged.acknowledged_at).not.toBeNull();
    expect(acknowledged.purge_after).toBe(acknowledged.acknowledged_at! + RETENTION_MS);
    expect(await actions()).toContain('decision.acknowledge');

    // Within the retention period nothing is dropped.
    expect(await purgeExpiredDecisions(gw.running.gateway)).toBe(0);
    ahead += RETENTION_MS + 1;
    expect(await purgeExpiredDecisions(gw.running.gateway)).toBeGreaterThanOrEqual(1);
    const purged = await rowOf(transferId);
    expect(purged.decision).toBe('');
    expect(purged.purged_at).not.toBeNull();
    expect(purged.decision_digest).toBe(acknowledged.decision_digest);
    expect(await actions()).toContain('decision.purge');

    // A hospital system set up afresh (cursor 0) is not sent what it already acknowledged.
    const fresh = await followDecisions(s.nanshan, { outDir: join(ex.root, 'his-reinstalled') });
    expect(fresh.received).toBe(0);
  });
});
