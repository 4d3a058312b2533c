/**
 * Two gateway replicas on one real PostgreSQL (issue 12 item 2), over real mTLS: wake-ups cross replicas
 * (the hospital on B, the insurer on A: the transfer reaches A's puller and the decision B's stream through
 * LISTEN/NOTIFY); a registry reload on A ends a removed party's stream on B; clients given both addresses
 * carry on through B when A stops.
 */
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { openHospitalSession, type HospitalSession } from '../../hospital-adapter/session.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession, type InsurerSession } from '../../insurer-adapter/session.js';
import { openPostgresStore } from '../../gateway/storage/postgres/store.js';
import type { StoreFactory } from '../../gateway/storage/store.js';
import type { StreamDecisionsResponse } from '../../proto/gen/hdx/v1/settlement.js';
import { createTestExchange, removeFromRegistry, startTestGateway, waitFor, type TestExchange, type TestGateway } from '../support/harness.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

const record = recordMaker(20261204);

describe.runIf(postgresAvailable())('two gateway replicas on one PostgreSQL', () => {
  let ex: TestExchange;
  let db: TestDatabase;
  let a: TestGateway | undefined;
  let b: TestGateway;
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    ex = await createTestExchange();
    db = await testDatabase();
    const store: StoreFactory = (options) => openPostgresStore({ ...options, postgres: { connectionString: db.url } });
    a = await startTestGateway(ex, { store });
    // Its own data folder only for the folder lock: the state is in PostgreSQL.
    b = await startTestGateway(ex, { store, dataDir: join(ex.root, 'replica-b') });
  });
  afterAll(async () => {
    for (const session of open) session.close();
    await b?.stop();
    await a?.stop();
    await db?.drop();
    ex?.cleanup();
  });

  const hospital = async (address: string): Promise<HospitalSession> => {
    const session = await openHospitalSession(ex.partyDir('nanshan-people'), address);
    open.push(session);
    return session;
  };
  const insurer = async (address: string): Promise<InsurerSession> => {
    const session = await openInsurerSession(ex.partyDir('taikang-online'), address);
    open.push(session);
    return session;
  };

  it('a submission on B wakes the insurer following on A, and A’s decision wakes the hospital’s stream on B', async () => {
    const [nanshan, taikang] = [await hospital(b.address), await insurer(a!.address)];
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const following = followDecisions(nanshan, { outDir: join(ex.root, 'his-1'), follow: true, signal: abort.signal, onDecision: (e) => void seen.push(e) });
    const deciding = pullAndDecide(taikang, { outDir: join(ex.root, 'inbox-1'), follow: true, rules: adjudicate, signal: abort.signal });
    await waitFor(() => a!.running.gateway.events.listenerCount('transfer:taikang-online') > 0 && b.running.gateway.events.listenerCount('decision:nanshan-people') > 0);

    // What each replica hears from the other (its own commits are not on these channels: B takes no
    // decision, A no submission), so the wake-ups below came by NOTIFY, not by polling.
    const heard = { onA: 0, onB: 0 };
    const stops = [
      a!.running.gateway.events.subscribe('transfer:taikang-online', () => void (heard.onA += 1)),
      b.running.gateway.events.subscribe('decision:nanshan-people', () => void (heard.onB += 1)),
    ];
    const submitted = await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.length === 1, 30_000);
    abort.abort();
    await Promise.all([following, deciding]);
    for (const stop of stops) stop();
    expect(seen[0]!.ok && seen[0]!.decision.submissionId).toBe(submitted.submissionId);
    expect(heard.onA).toBeGreaterThan(0);
    expect(heard.onB).toBeGreaterThan(0);
  });

  it('a registry reload on A ends the removed party’s open stream on B', async () => {
    const szu = await openHospitalSession(ex.partyDir('szu-general'), b.address);
    open.push(szu);
    const stream = szu.clients.settlement.streamDecisions({ afterCursor: 0, follow: true }) as ClientReadableStream<StreamDecisionsResponse>;
    let ended: { code: number; details: string } | undefined;
    stream.on('data', () => {});
    stream.on('error', (e: { code: number; details: string }) => (ended = { code: e.code, details: e.details }));
    await waitFor(() => b.running.gateway.events.listenerCount('decision:szu-general') > 0);

    removeFromRegistry(ex, 'szu-general'); // the file both replicas read
    const change = await a!.running.reloadRegistry();
    expect(change.partiesRemoved).toEqual(['szu-general']);
    await waitFor(() => ended !== undefined);
    expect(ended?.code).toBe(status.UNAUTHENTICATED);
    expect(b.running.parties.byId('szu-general')).toBeUndefined();
  });

  it('adapters given both addresses carry on through B when A stops', async () => {
    const both = `${a!.address},${b.address}`;
    const [nanshan, taikang] = [await hospital(both), await insurer(both)];
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const following = followDecisions(nanshan, { outDir: join(ex.root, 'his-2'), follow: true, signal: abort.signal, onDecision: (e) => void seen.push(e) });
    const deciding = pullAndDecide(taikang, { outDir: join(ex.root, 'inbox-2'), follow: true, rules: adjudicate, signal: abort.signal });

    const first = await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.some((e) => e.ok && e.decision.submissionId === first.submissionId), 30_000);
    await a!.stop();
    a = undefined;
    const second = await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.some((e) => e.ok && e.decision.submissionId === second.submissionId), 30_000);
    abort.abort();
    await Promise.all([following, deciding]);
    const submissions = seen.map((e) => (e.ok ? e.decision.submissionId : e.transferId));
    expect(submissions.filter((id) => id === first.submissionId || id === second.submissionId)).toHaveLength(2);
  }, 60_000);
});
