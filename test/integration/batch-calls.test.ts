/**
 * AcknowledgeTransfers and SubmitDecisions over real gRPC with mutual TLS: each item is handled as its
 * unary call would handle it (same status and message for a refusal), a refused item does not fail the
 * others, the results come in order, and the batch size is bounded.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { signDraft, submitSignedDecision } from '../../insurer-adapter/adjudicate.js';
import { envelopeDigestOf, signReceipt } from '../../keys/formats/receipt.js';
import { unaryCall } from '../../proto/connect.js';
import type { PullTransfersResponse, Transfer } from '../../proto/gen/hdx/v1/delivery.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, expectStatus, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261203);

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

async function rawPull(): Promise<Transfer[]> {
  const stream = s.taikang.clients.delivery.pullTransfers({ maxTransfers: 100, follow: false, leaseSeconds: 0 });
  const out: Transfer[] = [];
  for await (const m of stream as AsyncIterable<PullTransfersResponse>) if (m.transfer) out.push(m.transfer);
  return out;
}

async function receiptFor(t: Pick<Transfer, 'transferId' | 'envelope'>) {
  return signReceipt(
    {
      iss: s.taikang.identity.party.uri,
      aud: s.taikang.gatewayUri,
      jti: t.transferId,
      hdx: { envelopeDigest: envelopeDigestOf(t.envelope), receivedAt: new Date().toISOString() },
    },
    s.taikang.identity.signingKey,
  );
}

const delivery = () => s.taikang.clients.delivery;
const refusalOf = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code: number; details: string }) => `${e.code} ${e.details}`);

describe('AcknowledgeTransfers', () => {
  it('acknowledges each item as AcknowledgeTransfer would; refused items get their own status, in order', async () => {
    for (let i = 0; i < 3; i++) await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const [a, b, c] = await rawPull();
    expect(c).toBeDefined();
    const items = [
      { idempotencyKey: `ack-${a!.transferId}`, transferId: a!.transferId, receipt: await receiptFor(a!) },
      { idempotencyKey: 'ack-unknown', transferId: 'trf-unknown', receipt: await receiptFor({ transferId: 'trf-unknown', envelope: 'x' }) },
      // b's receipt over another envelope: refused as the unary call refuses it.
      { idempotencyKey: `ack-${b!.transferId}`, transferId: b!.transferId, receipt: await receiptFor({ transferId: b!.transferId, envelope: c!.envelope }) },
      { idempotencyKey: `ack-${c!.transferId}`, transferId: c!.transferId, receipt: await receiptFor(c!) },
    ];
    const { results } = await unaryCall(delivery(), delivery().acknowledgeTransfers, { acknowledgements: items });
    expect(results.map((r) => (r.acknowledged ? 'ok' : status[r.refused!.code]))).toEqual(['ok', 'NOT_FOUND', 'INVALID_ARGUMENT', 'ok']);
    expect(results[0]!.acknowledged?.transferId).toBe(a!.transferId);
    expect(results[3]!.acknowledged?.transferId).toBe(c!.transferId);
    for (const i of [1, 2]) {
      const unary = await refusalOf(unaryCall(delivery(), delivery().acknowledgeTransfer, items[i]!));
      expect(`${results[i]!.refused!.code} ${results[i]!.refused!.message}`).toBe(unary);
    }
    // A retry of the batch replays the acknowledged ones.
    const again = await unaryCall(delivery(), delivery().acknowledgeTransfers, { acknowledgements: [items[0]!] });
    expect(again.results[0]!.acknowledged?.replayed).toBe(true);
  });

  it('refuses another role per item, and an empty or oversized batch as a whole', async () => {
    const hospitalDelivery = s.nanshan.clients.delivery;
    const item = { idempotencyKey: 'ack-x', transferId: 'trf-x', receipt: 'x.y.z' };
    const { results } = await unaryCall(hospitalDelivery, hospitalDelivery.acknowledgeTransfers, { acknowledgements: [item] });
    const unary = await refusalOf(unaryCall(hospitalDelivery, hospitalDelivery.acknowledgeTransfer, item));
    expect(`${results[0]!.refused!.code} ${results[0]!.refused!.message}`).toBe(unary);
    expect(results[0]!.refused!.code).toBe(status.PERMISSION_DENIED);
    await expectStatus(unaryCall(delivery(), delivery().acknowledgeTransfers, { acknowledgements: [] }), status.INVALID_ARGUMENT, /empty/);
    await expectStatus(
      unaryCall(delivery(), delivery().acknowledgeTransfers, { acknowledgements: Array.from({ length: 257 }, () => item) }),
      status.INVALID_ARGUMENT,
      /at most 256/,
    );
  });
});

describe('SubmitDecisions', () => {
  it('records each decision as SubmitDecision would; a bad token is refused alone; concurrent submissions coalesce', async () => {
    const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const outcomes = await pullTransfers(s.taikang, { outDir: `${ex.root}/inbox` });
    const mine = outcomes.find((o) => o.transferId === submitted.transfers[0]!.transferId);
    expect(mine?.ok).toBe(true);
    const subject = { transferId: submitted.transfers[0]!.transferId, submissionId: submitted.submissionId, envelope: mine!.ok ? mine!.received.envelope : '' };
    const draft = {
      outcome: 'approved' as const,
      amounts: { totalCharges: '1234.56', socialInsurancePaid: '700.00', patientPaid: '534.56', payable: '434.56', patientRemainder: '100.00' },
      explanation: '按保单约定计算。',
    };
    const signed = await signDraft(s.taikang, subject, draft);
    const settlement = s.taikang.clients.settlement;
    const items = [
      { idempotencyKey: `decide-${signed.decisionId}`, decision: signed.jws },
      { idempotencyKey: 'decide-garbage', decision: 'not.a.token' },
    ];
    const { results } = await unaryCall(settlement, settlement.submitDecisions, { decisions: items });
    const unaryGarbage = await refusalOf(unaryCall(settlement, settlement.submitDecision, items[1]!));
    expect(results[0]!.recorded?.transferId).toBe(subject.transferId);
    expect(`${results[1]!.refused!.code} ${results[1]!.refused!.message}`).toBe(unaryGarbage);
    // Through the adapter (coalesced into SubmitDecisions): the same decision again is a replay.
    const [replay, refused] = await Promise.allSettled([
      submitSignedDecision(s.taikang, signed.decisionId, signed.jws),
      submitSignedDecision(s.taikang, 'garbage', 'not.a.token'),
    ]);
    expect(replay.status === 'fulfilled' && replay.value.replayed).toBe(true);
    expect(refused.status === 'rejected' && `${refused.reason.code} ${refused.reason.details}`).toBe(unaryGarbage);
  });
});
