/**
 * A consent's times as another stack sends them: a Timestamp with microseconds is refused naming the
 * field (the gateway keeps milliseconds and would otherwise digest a cut value); whole milliseconds are
 * accepted and the receipt's termsDigest is recomputable from the client's own values.
 */
import { status } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOfJson } from '../../keys/canonical.js';
import { ConsentTerms, GrantConsentRequest, GrantConsentResponse } from '../../proto/gen/hdx/v1/consent.js';
import { subMillisecondFields } from '../../gateway/transport/time-precision.js';
import { createGenerator } from '../../synthetic/index.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const gen = createGenerator(5150);

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

const CAPTURED_SECONDS = Math.floor(Date.now() / 1000) - 3600;

/** GrantConsentRequest bytes whose terms.capture.captured_at carries `nanos`, written as grpcio would. */
function grantBytes(nanos: number): { bytes: Uint8Array; patientId: string; request: GrantConsentRequest } {
  const patientId = gen.dischargeRecord({ hospitalId: 'nanshan-people' }).patient.nationalId;
  const t = terms({ insurerId: 'taikang-online' });
  const { capture, ...rest } = t;
  const termsWriter = ConsentTerms.encode({ ...rest, capture: undefined } as ConsentTerms);
  const captureWriter = new BinaryWriter()
    .uint32(10).string(capture!.channel)
    .uint32(18).fork().uint32(8).int64(CAPTURED_SECONDS).uint32(16).int32(nanos).join()
    .uint32(26).string(capture!.noticeVersion)
    .uint32(34).string(capture!.formDigest);
  termsWriter.uint32(74).bytes(captureWriter.finish());
  const request = { idempotencyKey: idem('precision'), patientNationalId: patientId, terms: t };
  const bytes = new BinaryWriter()
    .uint32(10).string(request.idempotencyKey)
    .uint32(18).string(patientId)
    .uint32(26).bytes(termsWriter.finish())
    .finish();
  return { bytes, patientId, request };
}

function callGrant(bytes: Uint8Array): Promise<{ error?: { code: number; details: string }; response?: GrantConsentResponse }> {
  const client = s.nanshan.clients.consent;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/hdx.v1.ConsentService/GrantConsent',
      (b: Buffer) => b,
      (b: Buffer) => GrantConsentResponse.decode(b),
      Buffer.from(bytes),
      (error, response) => resolve(error ? { error: error as unknown as { code: number; details: string } } : { response: response! }),
    );
  });
}

describe('consent times keep the precision the client sent', () => {
  it('finds sub-millisecond Timestamps on the wire, by field', () => {
    expect(subMillisecondFields(grantBytes(123_456_789).bytes, { 3: { name: 'terms', fields: { 9: { name: 'capture', fields: { 2: 'captured_at' } } } } })).toEqual(['terms.capture.captured_at']);
    expect(subMillisecondFields(grantBytes(123_000_000).bytes, { 3: { name: 'terms', fields: { 9: { name: 'capture', fields: { 2: 'captured_at' } } } } })).toEqual([]);
  });

  it('refuses microseconds with INVALID_ARGUMENT naming the field', async () => {
    const { error } = await callGrant(grantBytes(123_456_000).bytes);
    expect(status[error!.code]).toBe('INVALID_ARGUMENT');
    expect(error!.details).toBe(
      'terms.capture.captured_at has sub-millisecond precision; hdx keeps times to the millisecond (Timestamp.nanos must be a multiple of 1000000)',
    );
  });

  it('accepts whole milliseconds, and the receipt digests the instant the client sent', async () => {
    const { bytes, request } = grantBytes(123_000_000);
    const { response, error } = await callGrant(bytes);
    expect(error).toBeUndefined();
    const t = request.terms!;
    // The digest input as docs/spec/v1/signed-objects.md defines it, from the client's own values.
    const expected = digestOfJson({
      insurer: t.insurerId,
      policyNumber: t.policyNumber,
      purpose: 'DIRECT_SETTLEMENT',
      categories: ['charges', 'diagnosis', 'encounter', 'lab', 'medication', 'procedure'],
      hospitals: ['nanshan-people'],
      anyHospital: false,
      validFrom: t.validFrom!.toISOString(),
      validUntil: t.validUntil!.toISOString(),
      capture: {
        channel: t.capture!.channel,
        capturedAt: new Date(CAPTURED_SECONDS * 1000 + 123).toISOString(),
        noticeVersion: t.capture!.noticeVersion,
        formDigest: t.capture!.formDigest,
      },
    });
    const receipt = JSON.parse(Buffer.from(response!.receipt.split('.')[1]!, 'base64url').toString()) as { hdx: { termsDigest: string } };
    expect(receipt.hdx.termsDigest).toBe(expected);
    expect(response!.consent!.terms!.capture!.capturedAt!.getTime()).toBe(CAPTURED_SECONDS * 1000 + 123);
  });
});
