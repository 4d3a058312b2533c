/**
 * The exchange end to end over real gRPC with mutual TLS on loopback: consent → submit → de-identify →
 * seal → deliver → acknowledge → audit, and the unhappy paths around each step.
 */
import { status } from '@grpc/grpc-js';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { grantConsent, revokeConsent } from '../../hospital-adapter/consent.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { receiveTransfer } from '../../insurer-adapter/receive.js';
import { verifyLog } from '../../compliance/verify.js';
import { unaryCall } from '../../proto/connect.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import type { PullTransfersResponse, Transfer } from '../../proto/gen/hdx/v1/delivery.js';
import { createGenerator } from '../../synthetic/index.js';
import type { SyntheticRecord } from '../../synthetic/index.js';
import {
  createTestExchange,
  idem,
  openSessions,
  startTestGateway,
  terms,
  type Sessions,
  type TestExchange,
  type TestGateway,
} from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const gen = createGenerator(20261121);

/** How far the gateway's clock runs ahead of the real one: lease tests move time instead of sleeping. */
let ahead = 0;

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { settings: { leaseMs: 1_000 }, clock: () => Date.now() + ahead });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

function record(options: Partial<Parameters<typeof gen.dischargeRecord>[0]> = {}): SyntheticRecord {
  // Discharged yesterday: inside the consents' validity windows.
  return gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000), ...options });
}

const bytesOf = (r: SyntheticRecord) => Buffer.from(JSON.stringify(r.bundle));

async function grant(session = s.nanshan, r: SyntheticRecord, overrides: Parameters<typeof terms>[0]) {
  const response = await grantConsent(session, {
    idempotencyKey: idem('grant'),
    patientNationalId: r.patient.nationalId,
    terms: terms(overrides),
  });
  return response.consent!.consentId;
}

/** Pulls everything ready for an insurer without acknowledging (raw stream). */
async function rawPull(session: Sessions['taikang'], max = 100, leaseSeconds = 0): Promise<Transfer[]> {
  const stream = session.clients.delivery.pullTransfers({ maxTransfers: max, follow: false, leaseSeconds });
  const out: Transfer[] = [];
  for await (const m of stream as AsyncIterable<PullTransfersResponse>) if (m.transfer) out.push(m.transfer);
  return out;
}

async function expectStatus(promise: Promise<unknown>, code: status, message?: RegExp) {
  const error = (await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as { code: number; details: string };
  expect(status[error.code]).toBe(status[code]);
  if (message) expect(error.details).toMatch(message);
  return error;
}

describe('the whole flow', () => {
  it('delivers a consented record, de-identified and sealed, to the one insurer named, and the log verifies', async () => {
    const r = record({ withNote: true });
    await grant(s.nanshan, r, { insurerId: 'taikang-online' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    expect(submitted.transfers).toHaveLength(1);
    expect(submitted.transfers[0]!.insurerId).toBe('taikang-online');

    const out = join(ex.root, 'taikang-out');
    const outcomes = await pullTransfers(s.taikang, { outDir: out });
    const mine = outcomes.filter((o) => o.transferId === submitted.transfers[0]!.transferId);
    expect(mine).toHaveLength(1);
    const got = mine[0]!;
    if (!got.ok) throw new Error(got.reason);
    const claims = got.received.claims;
    expect(claims.aud).toBe('spiffe://hdx.local/insurer/taikang-online');
    expect(claims.hdx.hospital).toBe('spiffe://hdx.local/hospital/nanshan-people');
    expect(claims.hdx.submission).toBe(submitted.submissionId);
    expect(claims.hdx.submissionDigest).toBe(submitted.bundleDigest);

    // What adjudication needs survives: codes, service dates, charges, the policy number, the pseudonym.
    const text = JSON.stringify(got.received.bundle);
    const patient = (got.received.bundle.entry as Array<{ resource: Record<string, unknown> }>).find(
      (e) => e.resource.resourceType === 'Patient',
    )!.resource;
    expect(patient.id).toBe(claims.sub);
    expect(text).toContain('PL-2026-000123');
    expect(text).toContain('http://hl7.org/fhir/sid/icd-10');
    expect(text).toContain(r.serviceEnd.slice(0, 10));
    // No planted identifier reaches the insurer; no free text without the notes category.
    for (const id of r.identifiers) expect(text).not.toContain(id);
    expect(text).not.toContain('DocumentReference');

    // Acknowledged: nothing more to pull.
    expect(await rawPull(s.taikang)).toHaveLength(0);
    const status1 = await unaryCall(s.nanshan.clients.records, s.nanshan.clients.records.getSubmission, {
      submissionId: submitted.submissionId,
    });
    expect(status1.transfers[0]!.acknowledgedAt).toBeInstanceOf(Date);

    const report = await verifyLog(s.regulator, { statePath: join(ex.root, 'officer', 'state.json') });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('never gives an insurer another insurer’s transfer, nor lets it acknowledge one', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'taikang-online' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    const theirs = submitted.transfers[0]!;
    const pinganGot = await rawPull(s.pingan);
    expect(pinganGot.map((t) => t.transferId)).not.toContain(theirs.transferId);
    const [taikangGot] = (await rawPull(s.taikang)).filter((t) => t.transferId === theirs.transferId);
    expect(taikangGot).toBeDefined();
    await expectStatus(
      unaryCall(s.pingan.clients.delivery, s.pingan.clients.delivery.acknowledgeTransfer, {
        idempotencyKey: idem('ack'),
        transferId: theirs.transferId,
        receipt: 'x.y.z',
      }),
      status.NOT_FOUND,
    );
  });

  it('sends one record to each insurer the patient named, each under its own pseudonym', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'taikang-online' });
    await grant(s.nanshan, r, { insurerId: 'pingan-health' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    expect(submitted.transfers.map((t) => t.insurerId).sort()).toEqual(['pingan-health', 'taikang-online']);
    const a = (await pullTransfers(s.taikang, { outDir: join(ex.root, 'a') })).find((o) => o.ok);
    const b = (await pullTransfers(s.pingan, { outDir: join(ex.root, 'b') })).find((o) => o.ok);
    if (!a?.ok || !b?.ok) throw new Error('both insurers should receive');
    expect(a.received.claims.sub).not.toBe(b.received.claims.sub);
  });
});

describe('consent decides', () => {
  const cases: Array<[string, (r: SyntheticRecord) => Promise<void>]> = [
    ['no consent at all', async () => {}],
    ['an expired consent', async (r) => {
      await grant(s.nanshan, r, {
        insurerId: 'taikang-online',
        validFrom: new Date(Date.now() - 400 * 86_400_000),
        validUntil: new Date(Date.now() - 86_400_000),
      });
    }],
    ['a revoked consent', async (r) => {
      const id = await grant(s.nanshan, r, { insurerId: 'taikang-online' });
      await revokeConsent(s.nanshan, { idempotencyKey: idem('revoke'), consentId: id });
    }],
    ['a consent for another purpose', async (r) => {
      await grant(s.nanshan, r, { insurerId: 'taikang-online', purpose: Purpose.PURPOSE_STATISTICS });
    }],
    ['a consent for another hospital', async (r) => {
      await grant(s.szu, r, { insurerId: 'taikang-online', hospitalIds: ['szu-general'] });
    }],
  ];
  for (const [name, setup] of cases) {
    it(`refuses a record with ${name}: FAILED_PRECONDITION, audited, nothing stored`, async () => {
      const r = record();
      await setup(r);
      const before = (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))!;
      await expectStatus(submitBundle(s.nanshan, bytesOf(r)), status.FAILED_PRECONDITION, /no active consent/);
      const after = (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))!;
      expect(after.n).toBe(before.n);
      const denial = (await gw.sql.get<{ event_json: string }>(`SELECT event_json FROM audit_events WHERE action = 'record.deny' ORDER BY seq DESC LIMIT 1`))!;
      expect(JSON.parse(denial.event_json)).toMatchObject({ outcome: 'denied', details: { reason: 'no-consent' } });
    });
  }

  it('sends one transfer per insurer even when the patient signed twice for it, under the latest consent', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'taikang-online', policyNumber: 'PL-OLD-1' });
    const latest = await grant(s.nanshan, r, { insurerId: 'taikang-online', policyNumber: 'PL-NEW-2' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    expect(submitted.transfers).toHaveLength(1);
    expect(submitted.transfers[0]!.consentId).toBe(latest);
  });

  it('withholds an undelivered transfer when its consent is revoked', async () => {
    const r = record();
    const id = await grant(s.nanshan, r, { insurerId: 'pingan-health' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    const revoked = await revokeConsent(s.nanshan, { idempotencyKey: idem('revoke'), consentId: id });
    expect(revoked.withheldTransfers).toBe(1);
    const got = await rawPull(s.pingan);
    expect(got.map((t) => t.transferId)).not.toContain(submitted.transfers[0]!.transferId);
  });

  it('refuses consents a hospital may not record, naming the field and never the value', async () => {
    const r = record();
    const bad = await expectStatus(
      grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: '110101199003077777', terms: terms({ insurerId: 'taikang-online' }) }),
      status.INVALID_ARGUMENT,
      /patient_national_id is not a valid resident ID/,
    );
    expect(bad.details).not.toContain('110101199003077777');
    await expectStatus(
      grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'szu-general' }) }),
      status.INVALID_ARGUMENT,
      /not a registered insurer/,
    );
    await expectStatus(
      grantConsent(s.nanshan, {
        idempotencyKey: idem('g'),
        patientNationalId: r.patient.nationalId,
        terms: terms({ insurerId: 'taikang-online', hospitalIds: ['szu-general'] }),
      }),
      status.PERMISSION_DENIED,
    );
  });
});

describe('delivery', () => {
  it('a replayed submission returns the first answer and creates no second transfer', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'taikang-online' });
    const first = await submitBundle(s.nanshan, bytesOf(r));
    const again = await submitBundle(s.nanshan, bytesOf(r));
    expect(again.replayed).toBe(true);
    expect(again.submissionId).toBe(first.submissionId);
    expect(again.transfers).toEqual(first.transfers);
    const rows = (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers WHERE submission_id = ?', first.submissionId))!;
    expect(rows.n).toBe(1);
  });

  it('re-delivers a transfer that was not acknowledged before its lease ran out', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'pingan-health' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    const id = submitted.transfers[0]!.transferId;
    const first = (await rawPull(s.pingan, 100, 1)).find((t) => t.transferId === id);
    expect(first?.deliveryAttempt).toBe(1);
    expect((await rawPull(s.pingan)).map((t) => t.transferId)).not.toContain(id); // still leased
    ahead += 1_001; // the lease runs out
    const second = (await rawPull(s.pingan)).find((t) => t.transferId === id);
    expect(second?.deliveryAttempt).toBe(2);
    // Acknowledging twice is harmless.
    const received = await receiveTransfer(s.pingan, second!, join(ex.root, 'pingan-out'));
    expect(received.transferId).toBe(id);
    const { acknowledge } = await import('../../insurer-adapter/receive.js');
    await acknowledge(s.pingan, second!);
    expect((await rawPull(s.pingan)).map((t) => t.transferId)).not.toContain(id);
  });

  it('the insurer adapter refuses a tampered envelope or payload: nothing written, nothing acknowledged', async () => {
    const r = record();
    await grant(s.nanshan, r, { insurerId: 'taikang-online' });
    const submitted = await submitBundle(s.nanshan, bytesOf(r));
    const transfer = (await rawPull(s.taikang, 100, 1)).find((t) => t.transferId === submitted.transfers[0]!.transferId)!;
    const out = join(ex.root, 'tampered');
    const [h, p, sig] = transfer.envelope.split('.');
    const forgedClaims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    forgedClaims.aud = 'spiffe://hdx.local/insurer/taikang-online';
    forgedClaims.hdx.consent = 'cns_forged';
    const forged = `${h}.${Buffer.from(JSON.stringify(forgedClaims)).toString('base64url')}.${sig}`;
    await expect(receiveTransfer(s.taikang, { ...transfer, envelope: forged }, out)).rejects.toThrow();
    const parts = transfer.payload.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}AA`;
    await expect(receiveTransfer(s.taikang, { ...transfer, payload: parts.join('.') }, out)).rejects.toThrow();
    expect(existsSync(out) ? readdirSync(out) : []).toHaveLength(0);
    const row = (await gw.running.gateway.transfers.get(transfer.transferId))!;
    expect(row.acknowledged_at).toBeNull();
  });
});

describe('bad input gets a clear status, and the gateway keeps serving', () => {
  it('non-FHIR JSON and broken JSON are INVALID_ARGUMENT naming the problem', async () => {
    await expectStatus(submitBundle(s.nanshan, Buffer.from('{"hello":"world"}')), status.INVALID_ARGUMENT, /resourceType must be "Bundle"/);
    await expectStatus(submitBundle(s.nanshan, Buffer.from('{not json')), status.INVALID_ARGUMENT, /not valid JSON/);
    const noPatient = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Encounter' } }] };
    await expectStatus(submitBundle(s.nanshan, Buffer.from(JSON.stringify(noPatient))), status.INVALID_ARGUMENT, /exactly one Patient/);
  });

  it('an oversized message is RESOURCE_EXHAUSTED', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    await expectStatus(submitBundle(s.nanshan, huge), status.RESOURCE_EXHAUSTED);
  });

  it('a malformed protobuf is refused with a status, not a crash', async () => {
    const client = s.nanshan.clients.records;
    const error = await new Promise<{ code: number }>((resolve) => {
      client.makeUnaryRequest(
        '/hdx.v1.RecordService/SubmitRecord',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        (err) => resolve(err as unknown as { code: number }),
      );
    });
    expect([status.INTERNAL, status.INVALID_ARGUMENT]).toContain(error.code);
    // Still serving.
    await expectStatus(submitBundle(s.nanshan, Buffer.from('{}')), status.INVALID_ARGUMENT);
  });

  it('an unsigned or wrongly signed submission is refused', async () => {
    const r = record();
    await expectStatus(
      unaryCall(s.nanshan.clients.records, s.nanshan.clients.records.submitRecord, {
        idempotencyKey: idem('unsigned'),
        bundle: bytesOf(r),
        purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
        signature: '',
      }),
      status.INVALID_ARGUMENT,
      /signature is required/,
    );
  });
});

describe('identity and roles', () => {
  it('wrong role: PERMISSION_DENIED', async () => {
    await expectStatus(
      unaryCall(s.taikang.clients.records, s.taikang.clients.records.submitRecord, {
        idempotencyKey: idem('x'),
        bundle: Buffer.from('{}'),
        purpose: Purpose.PURPOSE_CLAIM,
        signature: '',
      }),
      status.PERMISSION_DENIED,
    );
    await expectStatus(
      unaryCall(s.nanshan.clients.audit, s.nanshan.clients.audit.getCheckpoint, {}),
      status.PERMISSION_DENIED,
    );
  });

  it('a certificate from the exchange CA for a party the registry does not know: UNAUTHENTICATED', async () => {
    const { issueCertificate } = await import('../../keys/pki.js');
    const { connectGateway } = await import('../../proto/connect.js');
    const ca = {
      certPem: readFileSync(join(ex.summary.dir, 'ca', 'ca.crt'), 'utf8'),
      keyPem: readFileSync(join(ex.summary.dir, 'ca', 'ca.key'), 'utf8'),
    };
    const stranger = issueCertificate(ca, {
      commonName: 'stranger',
      uri: 'spiffe://hdx.local/hospital/stranger',
      usage: 'client',
      validDays: 1,
    });
    const clients = connectGateway(gw.address, {
      cert: Buffer.from(stranger.certPem),
      key: Buffer.from(stranger.keyPem),
      ca: Buffer.from(ca.certPem),
    });
    try {
      await expectStatus(unaryCall(clients.directory, clients.directory.getJwks, {}), status.UNAUTHENTICATED);
    } finally {
      clients.close();
    }
  });

  it('a certificate from another CA cannot even connect', async () => {
    const { createCa, issueCertificate } = await import('../../keys/pki.js');
    const { connectGateway } = await import('../../proto/connect.js');
    const rogueCa = createCa({ trustDomain: 'hdx.local', validDays: 1 });
    const rogue = issueCertificate(rogueCa, {
      commonName: 'nanshan-people',
      uri: 'spiffe://hdx.local/hospital/nanshan-people',
      usage: 'client',
      validDays: 1,
    });
    const clients = connectGateway(gw.address, {
      cert: Buffer.from(rogue.certPem),
      key: Buffer.from(rogue.keyPem),
      ca: readFileSync(join(ex.summary.dir, 'ca', 'ca.crt')),
    });
    try {
      await expectStatus(unaryCall(clients.directory, clients.directory.getJwks, {}, { timeoutMs: 5_000 }), status.UNAVAILABLE);
    } finally {
      clients.close();
    }
  });
});
