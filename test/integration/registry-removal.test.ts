/**
 * Parties leaving the exchange while it runs (issue 14 items 2 and 3), over real mTLS: a registry reload
 * ends the open streams of parties it no longer lists; a stream re-checks its caller for every message it
 * sends (a certificate that expires while the connection stays up); and a consent naming a removed insurer
 * is skipped and audited while the patient's other insurers still receive the record.
 */
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { partyUri } from '../../keys/identity.js';
import { unaryCall } from '../../proto/connect.js';
import type { PullTransfersResponse } from '../../proto/gen/hdx/v1/delivery.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import {
  connectWith,
  createTestExchange,
  idem,
  issueTestCertificate,
  openSessions,
  removeFromRegistry,
  startTestGateway,
  terms,
  waitFor,
  type Sessions,
  type TestExchange,
  type TestGateway,
} from '../support/harness.js';
import { expectStatus } from '../settlement/support.js';

const DAY = 86_400_000;
let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
/** The gateway's clock: real time plus what a test adds. */
let clockOffset = 0;
const gen = createGenerator(140214);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { clock: () => Date.now() + clockOffset });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

/** A stream's messages as they arrive, and how it ended. */
function watch<T>(stream: ClientReadableStream<T>) {
  const seen = { messages: [] as T[], ended: undefined as undefined | { code: number; details: string } };
  stream.on('data', (m: T) => seen.messages.push(m));
  stream.on('error', (e: { code: number; details: string }) => (seen.ended = { code: e.code, details: e.details }));
  stream.on('end', () => (seen.ended ??= { code: status.OK, details: '' }));
  return seen;
}

const stay = (patient?: SyntheticRecord['patient']): SyntheticRecord =>
  gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - DAY), ...(patient && { patient }) });

async function consent(nationalId: string, insurerId: string) {
  await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: nationalId, terms: terms({ insurerId }) });
}

const submit = (r: SyntheticRecord) => submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));

async function auditEvents(action: string): Promise<string[]> {
  return (await gw.running.gateway.store.reads.audit.page({ action, afterSeq: -1 }, 100_000)).map((row) => row.event_json);
}

describe('a certificate that expires while its connection stays up', () => {
  it('refuses the next call, and ends an open stream at its next message instead of sending it', async () => {
    const r = stay();
    await consent(r.patient.nationalId, 'pingan-health');
    const pinganUri = partyUri(ex.summary.trustDomain, 'insurer', 'pingan-health');
    const clients = connectWith(ex, gw, issueTestCertificate(ex, pinganUri, { validDays: 1 }));
    try {
      await unaryCall(clients.directory, clients.directory.getJwks, {});
      const pulling = watch(clients.delivery.pullTransfers({ maxTransfers: 0, leaseSeconds: 0, follow: true }) as ClientReadableStream<PullTransfersResponse>);
      await waitFor(() => gw.running.gateway.events.listenerCount('transfer:pingan-health') > 0);

      clockOffset = DAY + 60_000; // past the certificate's notAfter on the gateway's clock; TLS saw it valid
      await expectStatus(unaryCall(clients.directory, clients.directory.getJwks, {}), status.UNAUTHENTICATED, /certificate has expired/);
      await submit(r);
      await waitFor(() => pulling.ended !== undefined || pulling.messages.length > 0);
      expect(pulling.messages).toEqual([]);
      expect(pulling.ended?.code).toBe(status.UNAUTHENTICATED);
      expect(pulling.ended?.details).toMatch(/certificate has expired/);
    } finally {
      clockOffset = 0;
      clients.close();
    }
  });

  it('ends an idle follow stream when its certificate expires', async () => {
    const cert = issueTestCertificate(ex, partyUri(ex.summary.trustDomain, 'insurer', 'pingan-health'), { validDays: 1 });
    const notAfter = Date.parse(new X509Certificate(cert.certPem).validTo);
    const clients = connectWith(ex, gw, cert);
    try {
      await unaryCall(clients.directory, clients.directory.getJwks, {});
      // Shortly before notAfter on the gateway's clock: the stream opens, waits, and is ended by the expiry.
      clockOffset = notAfter - Date.now() - 3_000;
      const pulling = watch(clients.delivery.pullTransfers({ maxTransfers: 0, leaseSeconds: 0, follow: true }) as ClientReadableStream<PullTransfersResponse>);
      await waitFor(() => pulling.ended !== undefined, 20_000);
      expect(pulling.messages).toEqual([]);
      expect(pulling.ended?.code).toBe(status.UNAUTHENTICATED);
      expect(pulling.ended?.details).toMatch(/certificate has expired/);
    } finally {
      clockOffset = 0;
      clients.close();
    }
  });
});

describe('a party removed from the registry', () => {
  const first = stay();
  beforeAll(async () => {
    await consent(first.patient.nationalId, 'taikang-online');
    await consent(first.patient.nationalId, 'pingan-health');
  });

  it('an insurer’s open follow stream ends with UNAUTHENTICATED at the reload, before anything more is delivered', async () => {

    // Short leases: without the check the unacknowledged transfer comes again on the same stream.
    const pulling = watch(s.pingan.clients.delivery.pullTransfers({ maxTransfers: 0, leaseSeconds: 1, follow: true }) as ClientReadableStream<PullTransfersResponse>);
    const before = await submit(first);
    expect(before.transfers.map((t) => t.insurerId).sort()).toEqual(['pingan-health', 'taikang-online']);
    await waitFor(() => pulling.messages.length === 1);

    removeFromRegistry(ex, 'pingan-health');
    const change = await gw.running.reloadRegistry();
    expect(change.partiesRemoved).toEqual(['pingan-health']);
    await waitFor(() => pulling.ended !== undefined || pulling.messages.length > 1);
    expect(pulling.messages).toHaveLength(1);
    expect(pulling.ended?.code).toBe(status.UNAUTHENTICATED);
    expect(pulling.ended?.details).toMatch(/registry does not know/);
  });

  it('a consent naming a removed insurer is skipped and audited; the patient’s other insurer still receives the record', async () => {
    removeFromRegistry(ex, 'pingan-health'); // as above (idempotent): this test stands on its own
    await gw.running.reloadRegistry();
    const skipsBefore = (await auditEvents('transfer.skip')).length;
    const after = await submit(stay(first.patient));
    expect(after.transfers.map((t) => t.insurerId)).toEqual(['taikang-online']);
    const skips = (await auditEvents('transfer.skip')).slice(skipsBefore);
    expect(skips).toHaveLength(1);
    const skip = JSON.parse(skips[0]!) as Record<string, unknown>;
    expect(skip).toMatchObject({
      actor: 'gateway',
      outcome: 'refused',
      submission: after.submissionId,
      parties: ['pingan-health'],
      details: { reason: 'insurer-not-registered' },
    });
    expect(skip).not.toHaveProperty('patient');
    for (const value of [first.patient.nationalId, first.patient.name, 'PL-2026-000123']) expect(skips[0]).not.toContain(value);

    // A patient whose only consent names the removed insurer: refused with a clear reason, audited.
    const lone = stay();
    await consent(lone.patient.nationalId, 'taikang-online');
    removeFromRegistry(ex, 'taikang-online');
    await gw.running.reloadRegistry();
    await expectStatus(submit(lone), status.FAILED_PRECONDITION, /insurers no longer registered/);
  });

  it('a hospital’s open decision stream ends with UNAUTHENTICATED at the reload', async () => {
    const following = watch(s.szu.clients.settlement.streamDecisions({ afterCursor: 0, follow: true }));
    // The stream is open and waiting for decisions before the registry changes.
    await waitFor(() => gw.running.gateway.events.listenerCount('decision:szu-general') > 0);
    removeFromRegistry(ex, 'szu-general');
    await gw.running.reloadRegistry();
    await waitFor(() => following.ended !== undefined);
    expect(following.ended?.code).toBe(status.UNAUTHENTICATED);
  });
});

