/**
 * Say why a signature failed (issue 9.6): SubmitRecord, AcknowledgeTransfer and SubmitDecision refuse a
 * token that does not verify with INVALID_ARGUMENT naming the failed check — unknown kid, wrong typ, aud,
 * iat, signature, digest, purpose, jti — over real gRPC, and never echo the token's content.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDraft, submitSignedDecision } from '../../insurer-adapter/adjudicate.js';
import type { DecisionClaims } from '../../keys/formats/decision.js';
import { signDecision } from '../../keys/formats/decision.js';
import { signJwt } from '../../keys/formats/jws.js';
import { envelopeDigestOf, signReceipt, type ReceiptClaims } from '../../keys/formats/receipt.js';
import { bundleDigestOf, signSubmission, type SubmissionClaims } from '../../keys/formats/submission.js';
import { generateSigningKey } from '../../keys/jose-keys.js';
import { unaryCall } from '../../proto/connect.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import type { PullTransfersResponse, Transfer } from '../../proto/gen/hdx/v1/delivery.js';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { idempotencyKeyOf, submitBundle } from '../../hospital-adapter/submit.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, expectStatus, receive, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261202);
const OTHER_GATEWAY = 'spiffe://hdx.local/gateway/elsewhere';
const stranger = generateSigningKey('ES256').privateJwk;
const future = () => Math.floor(Date.now() / 1000) + 3600;

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

/** The refusal names `check` and contains none of `secrets`. */
async function expectRefused(call: Promise<unknown>, subject: string, check: string, secrets: string[]) {
  const error = await expectStatus(call, status.INVALID_ARGUMENT, new RegExp(`^${subject} does not verify \\(${check}\\): `));
  for (const secret of secrets) expect(error.details).not.toContain(secret);
  expect(gw.logs.join('')).not.toContain(secrets[0]);
}

describe('SubmitRecord names the failed check of the hospital’s signature', () => {
  const bytes = Buffer.from(JSON.stringify(record('nanshan-people').bundle));
  const key = idempotencyKeyOf(bytes);
  const claims = (): Omit<SubmissionClaims, 'iat'> => ({
    iss: s.nanshan.identity.party.uri,
    aud: s.nanshan.gatewayUri,
    jti: key,
    hdx: { bundleDigest: bundleDigestOf(bytes), purpose: 'DIRECT_SETTLEMENT' },
  });
  const submit = (signature: string) =>
    unaryCall(s.nanshan.clients.records, s.nanshan.clients.records.submitRecord, {
      idempotencyKey: key,
      bundle: bytes,
      purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
      signature,
    });
  const own = () => s.nanshan.identity.signingKey;

  const cases: Array<[string, string, () => Promise<string>, () => string[]]> = [
    ['an unknown kid', 'kid', () => signSubmission(claims(), stranger), () => [String(stranger.kid)]],
    ['another token type', 'typ', () => signJwt({ ...claims(), iat: future() - 3600 }, own(), 'hdx-receipt+jwt'), () => ['hdx-receipt+jwt']],
    ['another audience', 'aud', () => signSubmission({ ...claims(), aud: OTHER_GATEWAY }, own()), () => [OTHER_GATEWAY]],
    ['an iat in the future', 'iat', () => signSubmission({ ...claims(), iat: future() }, own()), () => [bundleDigestOf(bytes)]],
    [
      'a broken signature',
      'signature',
      async () => {
        const jws = await signSubmission(claims(), own());
        const [h, p, sig] = jws.split('.') as [string, string, string];
        return `${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
      },
      () => [bundleDigestOf(bytes)],
    ],
    [
      'another bundle',
      'digest',
      () => signSubmission({ ...claims(), hdx: { ...claims().hdx, bundleDigest: bundleDigestOf('{}') } }, own()),
      () => [bundleDigestOf('{}'), bundleDigestOf(bytes)],
    ],
    ['another purpose', 'purpose', () => signSubmission({ ...claims(), hdx: { ...claims().hdx, purpose: 'CLAIM' } }, own()), () => ['CLAIM']],
    ['another idempotency key', 'jti', () => signSubmission({ ...claims(), jti: 'someone-else-1' }, own()), () => ['someone-else-1', key]],
  ];
  for (const [name, check, sign, secrets] of cases) {
    it(`${name}: (${check})`, async () => {
      await expectRefused(submit(await sign()), 'signature', check, secrets());
    });
  }
});

describe('AcknowledgeTransfer names the failed check of the insurer’s receipt', () => {
  let transfer: Transfer;
  beforeAll(async () => {
    const r = record('nanshan-people');
    await grantConsent(s.nanshan, {
      idempotencyKey: idem('grant'),
      patientNationalId: r.patient.nationalId,
      terms: terms({ insurerId: 'taikang-online' }),
    });
    const submitted = await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
    // Pulled with a lease, not acknowledged: the receipts below are the acknowledgement attempts.
    const stream = s.taikang.clients.delivery.pullTransfers({ maxTransfers: 100, follow: false, leaseSeconds: 600 });
    for await (const m of stream as AsyncIterable<PullTransfersResponse>) {
      if (m.transfer?.transferId === submitted.transfers[0]!.transferId) transfer = m.transfer;
    }
    expect(transfer).toBeDefined();
  });

  const claims = (): Omit<ReceiptClaims, 'iat'> => ({
    iss: s.taikang.identity.party.uri,
    aud: s.taikang.gatewayUri,
    jti: transfer.transferId,
    hdx: { envelopeDigest: envelopeDigestOf(transfer.envelope), receivedAt: new Date().toISOString() },
  });
  const ack = (receipt: string) =>
    unaryCall(s.taikang.clients.delivery, s.taikang.clients.delivery.acknowledgeTransfer, {
      idempotencyKey: idem('ack'),
      transferId: transfer.transferId,
      receipt,
    });
  const own = () => s.taikang.identity.signingKey;

  const cases: Array<[string, string, () => Promise<string>, () => string[]]> = [
    ['an unknown kid', 'kid', () => signReceipt(claims(), stranger), () => [String(stranger.kid)]],
    ['another token type', 'typ', () => signJwt({ ...claims(), iat: future() - 3600 }, own(), 'hdx-submission+jwt'), () => ['hdx-submission+jwt']],
    ['another audience', 'aud', () => signReceipt({ ...claims(), aud: OTHER_GATEWAY }, own()), () => [OTHER_GATEWAY]],
    ['an iat in the future', 'iat', () => signReceipt({ ...claims(), iat: future() }, own()), () => [envelopeDigestOf(transfer.envelope)]],
    [
      'another envelope',
      'digest',
      () => signReceipt({ ...claims(), hdx: { ...claims().hdx, envelopeDigest: envelopeDigestOf('x.y.z') } }, own()),
      () => [envelopeDigestOf('x.y.z'), envelopeDigestOf(transfer.envelope)],
    ],
    ['another transfer', 'jti', () => signReceipt({ ...claims(), jti: 'trf-not-this-one' }, own()), () => ['trf-not-this-one']],
  ];
  for (const [name, check, sign, secrets] of cases) {
    it(`${name}: (${check})`, async () => {
      await expectRefused(ack(await sign()), 'receipt', check, secrets());
    });
  }

  it('and a good receipt after all of them is accepted', async () => {
    const response = await ack(await signReceipt(claims(), own()));
    expect(response.transferId).toBe(transfer.transferId);
  });
});

describe('SubmitDecision uses the same refusal', () => {
  let subject: { transferId: string; submissionId: string; envelope: string };
  beforeAll(async () => {
    const submitted = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
    const transferId = submitted.transfers[0]!.transferId;
    const received = await receive(s.taikang, ex.root, transferId);
    subject = { transferId, submissionId: submitted.submissionId, envelope: received.envelope };
  });
  const draft = {
    outcome: 'approved' as const,
    amounts: { totalCharges: '10.00', socialInsurancePaid: '5.00', patientPaid: '5.00', payable: '5.00', patientRemainder: '0.00' },
    explanation: '测试说明',
  };
  const resigned = async (change: (c: Omit<DecisionClaims, 'iat'>) => Omit<DecisionClaims, 'iat'> & { iat?: number }, key = s.taikang.identity.signingKey) => {
    const { claims } = await signDraft(s.taikang, subject, draft);
    const jws = await signDecision(change(claims), key);
    return submitSignedDecision(s.taikang, claims.jti, jws);
  };

  it('an unknown kid: (kid)', () => expectRefused(resigned((c) => c, stranger), 'decision', 'kid', [String(stranger.kid)]));
  it('another audience: (aud)', () => expectRefused(resigned((c) => ({ ...c, aud: OTHER_GATEWAY })), 'decision', 'aud', [OTHER_GATEWAY]));
  it('an iat in the future: (iat)', () => expectRefused(resigned((c) => ({ ...c, iat: future() })), 'decision', 'iat', ['测试说明']));
});
