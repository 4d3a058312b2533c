/**
 * Direct settlement over the real stack: an insurer's signed decision goes through the gateway to the
 * submitting hospital only; decisions that are not the insurer's to make, not yet possible, repeated or
 * forged are refused with a clear status and audited; nothing of the decision's content is logged.
 */
import { status } from '@grpc/grpc-js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions } from '../../hospital-adapter/decisions.js';
import { revokeConsent } from '../../hospital-adapter/consent.js';
import { adjudicateAndDecide, signDraft, submitSignedDecision, type DecisionDraft } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { signDecision } from '../../keys/formats/decision.js';
import { envelopeDigestOf } from '../../keys/formats/receipt.js';
import { generateSigningKey } from '../../keys/jose-keys.js';
import { unaryCall } from '../../proto/connect.js';
import type { StreamDecisionsResponse } from '../../proto/gen/hdx/v1/settlement.js';
import { createTestExchange, idem, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, expectStatus, receive, recordMaker } from './support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20260301);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { settings: { leaseMs: 1_000 } });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const EXPLANATION = '测试说明：本次赔付按保单约定计算，请凭此结算。';
const draft = (overrides: Partial<DecisionDraft> = {}): DecisionDraft => ({
  outcome: 'approved',
  amounts: { totalCharges: '1234.56', socialInsurancePaid: '700.00', patientPaid: '534.56', payable: '434.56', patientRemainder: '100.00' },
  explanation: EXPLANATION,
  ...overrides,
});

/** A transfer submitted by nanshan-people for taikang-online and received (acknowledged) by it. */
async function receivedTransfer() {
  const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
  const transferId = submitted.transfers[0]!.transferId;
  const received = await receive(s.taikang, ex.root, transferId);
  return { submitted, transferId, received, subject: { transferId, submissionId: submitted.submissionId, envelope: received.envelope } };
}

async function rawStream(session: Sessions['nanshan'], afterCursor = 0): Promise<StreamDecisionsResponse[]> {
  const out: StreamDecisionsResponse[] = [];
  for await (const m of session.clients.settlement.streamDecisions({ afterCursor, follow: false }) as AsyncIterable<StreamDecisionsResponse>) {
    out.push(m);
  }
  return out;
}

async function auditEvents(action: string): Promise<Array<Record<string, unknown>>> {
  return (await gw.running.gateway.store.reads.audit.page({ action, afterSeq: -1 }, 100_000)).map(
    (r) => JSON.parse(r.event_json) as Record<string, unknown>,
  );
}

describe('a decision', () => {
  it('goes from the insurer’s rules to the submitting hospital only, verified, with the stay’s settlement', async () => {
    const r = record('nanshan-people', 'IMP');
    const submitted = await consentAndSubmit(s.nanshan, r, 'taikang-online');
    const transferId = submitted.transfers[0]!.transferId;
    const received = await receive(s.taikang, ex.root, transferId);
    const decided = await adjudicateAndDecide(s.taikang, received, adjudicate);
    expect(decided.response.transferId).toBe(transferId);
    expect(decided.response.replayed).toBe(false);

    const out = join(ex.root, 'nanshan-desk');
    const events: Awaited<Parameters<NonNullable<Parameters<typeof followDecisions>[1]['onDecision']>>[0]>[] = [];
    const summary = await followDecisions(s.nanshan, { outDir: out, onDecision: (e) => void events.push(e) });
    const mine = events.find((e) => e.ok && e.decision.transferId === transferId);
    if (!mine?.ok) throw new Error('decision not received');
    expect(summary.refused).toBe(0);
    expect(mine.decision.insurerId).toBe('taikang-online');
    expect(mine.decision.claims.hdx.outcome).toBe(decided.outcome);
    // The settlement states the record's own figures.
    expect(mine.settlement.totalCharges).toBe(r.totalCharges.toFixed(2));
    expect(mine.settlement.socialInsurancePaid).toBe(r.socialInsurancePaid.toFixed(2));
    const onDisk = JSON.parse(readFileSync(join(out, 'settlements', `${submitted.submissionId}.json`), 'utf8'));
    expect(onDisk.insurerPaid).toBe(mine.decision.claims.hdx.amounts.payable);
    expect(JSON.parse(readFileSync(mine.path, 'utf8')).jws).toBe(decided.jws);

    // Not to the other hospital, not even the id.
    expect((await rawStream(s.szu)).map((m) => m.transferId)).not.toContain(transferId);
    // The submission report shows the decision time.
    const report = await unaryCall(s.nanshan.clients.records, s.nanshan.clients.records.getSubmission, { submissionId: submitted.submissionId });
    expect(report.transfers[0]!.decidedAt).toBeInstanceOf(Date);

    // Audited with outcome and digest only; neither the amounts nor the explanation are in the audit log or logs.
    const event = (await auditEvents('decision.record')).find((e) => e['transfer'] === transferId)!;
    expect(event).toMatchObject({ actor: 'taikang-online', decision: decided.decisionId, parties: ['nanshan-people'] });
    expect((event['details'] as Record<string, unknown>)['outcome']).toBe(decided.outcome);
    const explanation = mine.decision.claims.hdx.explanation;
    const auditText = JSON.stringify(await auditEvents('decision.record'));
    const logText = gw.logs.join('');
    for (const text of [auditText, logText]) {
      expect(text).not.toContain(explanation.slice(0, 12));
      expect(text).not.toContain(`"${mine.decision.claims.hdx.amounts.totalCharges}"`);
    }
  });

  it('from another insurer: NOT_FOUND, also when it signs with its own key; another insurer’s token: INVALID_ARGUMENT', async () => {
    const { subject } = await receivedTransfer();
    const byPingan = await signDraft(s.pingan, subject, draft());
    await expectStatus(submitSignedDecision(s.pingan, byPingan.decisionId, byPingan.jws), status.NOT_FOUND, /transfer not found/);
    // Taikang's genuine token, replayed over pingan's connection: not pingan's decision to make.
    const byTaikang = await signDraft(s.taikang, subject, draft());
    await expectStatus(submitSignedDecision(s.pingan, byTaikang.decisionId, byTaikang.jws), status.INVALID_ARGUMENT, /does not verify/);
    // A hospital may not decide at all.
    await expectStatus(
      unaryCall(s.nanshan.clients.settlement, s.nanshan.clients.settlement.submitDecision, { idempotencyKey: idem('d'), decision: byTaikang.jws }),
      status.PERMISSION_DENIED,
    );
    // Nothing reached the hospital.
    expect((await rawStream(s.nanshan)).map((m) => m.transferId)).not.toContain(subject.transferId);
  });

  it('for a transfer not yet delivered, or withheld: FAILED_PRECONDITION', async () => {
    const r = record('nanshan-people');
    const submitted = await consentAndSubmit(s.nanshan, r, 'taikang-online');
    const transferId = submitted.transfers[0]!.transferId;
    const blind = { transferId, submissionId: submitted.submissionId, envelope: 'never-seen' };
    const d = await signDraft(s.taikang, blind, draft());
    await expectStatus(submitSignedDecision(s.taikang, d.decisionId, d.jws), status.FAILED_PRECONDITION, /not been delivered/);

    const consentId = submitted.transfers[0]!.consentId;
    await revokeConsent(s.nanshan, { idempotencyKey: idem('revoke'), consentId });
    const again = await signDraft(s.taikang, blind, draft());
    await expectStatus(submitSignedDecision(s.taikang, again.decisionId, again.jws), status.FAILED_PRECONDITION, /withheld/);
  });

  it('about another envelope: INVALID_ARGUMENT', async () => {
    const { subject } = await receivedTransfer();
    const d = await signDraft(s.taikang, { ...subject, envelope: `${subject.envelope}x` }, draft());
    await expectStatus(submitSignedDecision(s.taikang, d.decisionId, d.jws), status.INVALID_ARGUMENT, /envelope/);
  });

  it('repeated: a resend is a replay; a second decision ALREADY_EXISTS unless it revises the latest', async () => {
    const { subject, transferId } = await receivedTransfer();
    const first = await signDraft(s.taikang, subject, draft());
    const recorded = await submitSignedDecision(s.taikang, first.decisionId, first.jws);
    expect(recorded.replayed).toBe(false);
    const resent = await submitSignedDecision(s.taikang, first.decisionId, first.jws);
    expect(resent).toMatchObject({ replayed: true, decisionId: first.decisionId, transferId });
    expect(resent.recordedAt).toEqual(recorded.recordedAt);

    const second = await signDraft(s.taikang, subject, draft({ outcome: 'declined', amounts: { ...draft().amounts, payable: '0.00', patientRemainder: '534.56' } }));
    await expectStatus(submitSignedDecision(s.taikang, second.decisionId, second.jws), status.ALREADY_EXISTS, /revision/);
    const reused = await signDraft(s.taikang, subject, draft({ reasons: ['other'] }), { decisionId: first.decisionId });
    await expectStatus(submitSignedDecision(s.taikang, `${first.decisionId}-b`, reused.jws), status.ALREADY_EXISTS, /already used/);

    const revision = await signDraft(s.taikang, subject, draft({ amounts: { ...draft().amounts, payable: '534.56', patientRemainder: '0.00' } }), {
      revisionOf: first.decisionId,
    });
    expect((await submitSignedDecision(s.taikang, revision.decisionId, revision.jws)).replayed).toBe(false);
    const stale = await signDraft(s.taikang, subject, draft(), { revisionOf: first.decisionId });
    await expectStatus(submitSignedDecision(s.taikang, stale.decisionId, stale.jws), status.FAILED_PRECONDITION, /latest/);

    // The hospital sees the decision and its revision, in order; the stay settles on the revision.
    const out = join(ex.root, 'nanshan-revisions');
    const seen: string[] = [];
    let last: { insurerPaid: string; patientRemainder: string } | undefined;
    await followDecisions(s.nanshan, {
      outDir: out,
      onDecision: (e) => {
        if (e.ok && e.decision.transferId === transferId) {
          seen.push(e.decision.decisionId);
          last = e.settlement;
        }
      },
    });
    expect(seen).toEqual([first.decisionId, revision.decisionId]);
    expect(last).toMatchObject({ insurerPaid: '534.56', patientRemainder: '0.00' });

    // Decision time is the first decision's; revisions and refusals are audited.
    const recordedEvents = (await auditEvents('decision.record')).filter((e) => e['transfer'] === transferId);
    expect(recordedEvents.map((e) => (e['details'] as Record<string, unknown>)['revisionOf'])).toEqual([undefined, first.decisionId]);
    const reasons = (await auditEvents('decision.refuse'))
      .filter((e) => e['transfer'] === transferId)
      .map((e) => (e['details'] as Record<string, unknown>)['reason']);
    expect(reasons).toEqual(['already-decided', 'decision-id-reused', 'stale-revision']);
  });

  it('with a bad signature, the wrong audience or a tampered body: INVALID_ARGUMENT, audited', async () => {
    const { subject } = await receivedTransfer();
    const good = await signDraft(s.taikang, subject, draft());
    const forgedKey = { ...generateSigningKey('ES256').privateJwk, kid: s.taikang.identity.signingKey.kid! };
    const [h, p, sig] = good.jws.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = await signDecision({ ...payload, iat: undefined }, forgedKey);
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, hdx: { ...payload.hdx, explanation: '改过的' } })).toString('base64url')}.${sig}`;
    const misaddressed = await signDecision({ ...payload, aud: 'spiffe://hdx.local/gateway/other-gateway', iat: undefined }, s.taikang.identity.signingKey);
    const before = (await auditEvents('decision.refuse')).length;
    for (const jws of [forged, tampered, misaddressed, 'not.a.jws']) {
      await expectStatus(submitSignedDecision(s.taikang, `x-${Math.random()}`.slice(0, 12), jws), status.INVALID_ARGUMENT, /does not verify/);
    }
    const refusals = (await auditEvents('decision.refuse')).slice(before);
    expect(refusals.map((e) => (e['details'] as Record<string, unknown>)['reason'])).toEqual(['bad-signature', 'bad-signature', 'bad-signature', 'malformed']);
    // An unverified token's claims name no transfer in the log.
    for (const e of refusals) expect(e['transfer']).toBeUndefined();
    expect(envelopeDigestOf(subject.envelope)).toBe(payload.hdx.envelopeDigest);
  });

  it('stream: only hospitals, from a cursor, and after_cursor must be sane', async () => {
    const all = await rawStream(s.nanshan);
    expect(all.length).toBeGreaterThan(1);
    const cursors = all.map((m) => m.cursor);
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
    expect((await rawStream(s.nanshan, cursors[0]!)).map((m) => m.cursor)).toEqual(cursors.slice(1));
    await expectStatus(
      (async () => {
        for await (const _ of s.taikang.clients.settlement.streamDecisions({ afterCursor: 0, follow: false })) void _;
      })(),
      status.PERMISSION_DENIED,
    );
  });

  it('the insurer inbox resumes a decision signed before a crash as a replay', async () => {
    const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const root = join(ex.root, 'crash');
    const received = await receive(s.taikang, root, submitted.transfers[0]!.transferId);
    const inbox = join(root, 'taikang-online');
    const { adjudicatePending } = await import('../../insurer-adapter/adjudicate.js');
    // As if the adapter crashed after receiving: nothing decided yet for this transfer in the inbox.
    const decided = await adjudicatePending(s.taikang, inbox, adjudicate);
    const mine = decided.find((d) => d.transferId === received.transferId);
    if (!mine?.ok) throw new Error(mine?.reason ?? 'not decided');
    expect(mine.decided.response.replayed).toBe(false);
    const { readJournal } = await import('../../insurer-adapter/decision-journal.js');
    expect(readJournal(inbox).sent.has(received.transferId)).toBe(true);
    expect(readdirSync(inbox).filter((n) => n.startsWith(received.transferId))).toEqual([
      `${received.transferId}.bundle.json`,
      `${received.transferId}.claims.json`,
    ]);
    // Run again: nothing left to do.
    expect((await adjudicatePending(s.taikang, inbox, adjudicate)).map((d) => d.transferId)).not.toContain(received.transferId);
  });

  it('a token kept in the journal but never sent is sent as it was, not decided again', async () => {
    const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const root = join(ex.root, 'crash-after-signing');
    const received = await receive(s.taikang, root, submitted.transfers[0]!.transferId);
    const inbox = join(root, 'taikang-online');
    const { adjudicatePending } = await import('../../insurer-adapter/adjudicate.js');
    const { journalSigned } = await import('../../insurer-adapter/decision-journal.js');
    // As if the adapter crashed between keeping the signed token and sending it.
    const subject = { transferId: received.transferId, submissionId: received.claims.hdx.submission, envelope: received.envelope };
    const kept = await signDraft(s.taikang, subject, draft());
    await journalSigned(inbox, { transferId: received.transferId, decisionId: kept.decisionId, outcome: 'approved', jws: kept.jws });
    const resumed = (await adjudicatePending(s.taikang, inbox, adjudicate)).find((d) => d.transferId === received.transferId);
    if (!resumed?.ok) throw new Error(resumed?.reason ?? 'not resumed');
    expect(resumed.decided.decisionId).toBe(kept.decisionId);
    expect(resumed.decided.jws).toBe(kept.jws);
    expect((await adjudicatePending(s.taikang, inbox, adjudicate)).map((d) => d.transferId)).not.toContain(received.transferId);
  });
});
