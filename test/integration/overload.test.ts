/**
 * Overload over the real stack: past its admission limit the gateway answers UNAVAILABLE at once with a
 * clear message and does no work; nothing already accepted is lost; the hospital adapter's retry with
 * backoff gets every record in exactly once (its idempotency key makes a retry of a landed call a replay).
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { isServiceError } from '../../proto/connect.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261121);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { settings: { maxSubmissionsInFlight: 1 } });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

async function consentedBundles(n: number): Promise<Buffer[]> {
  const bundles: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const r = record('nanshan-people');
    await grantConsent(s.nanshan, {
      idempotencyKey: idem('grant'),
      patientNationalId: r.patient.nationalId,
      terms: terms({ insurerId: 'taikang-online', hospitalIds: ['nanshan-people'], purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT }),
    });
    bundles.push(Buffer.from(JSON.stringify(r.bundle)));
  }
  return bundles;
}

const transferCount = async () => (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))!.n;

describe('a gateway at capacity', () => {
  it('refuses what it cannot take with UNAVAILABLE, keeps what it took, and the retrying adapter gets everything in once', async () => {
    const bundles = await consentedBundles(6);
    const before = await transferCount();

    // No retries: some are refused at once, with a message that says what to do; the rest are accepted.
    const first = await Promise.allSettled(bundles.map((b) => submitBundle(s.nanshan, b, 'DIRECT_SETTLEMENT', { forMs: 0 })));
    const refused = first.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
    const accepted = first.filter((r) => r.status === 'fulfilled');
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(isServiceError(error) && error.code).toBe(status.UNAVAILABLE);
      expect((error as Error).message).toMatch(/at capacity \(1 submissions in progress\); retry after a short backoff/);
      // …and when: the pushback trailer gRPC's retry policies read.
      const pushback = Number((error as ServiceError).metadata.get('grpc-retry-pushback-ms')[0]);
      expect(pushback).toBeGreaterThanOrEqual(50);
      expect(pushback).toBeLessThanOrEqual(5_000);
    }
    expect((await transferCount()) - before).toBe(accepted.length);

    // With the adapter's retry (the default), every record lands; the accepted ones are replays, not copies.
    const second = await Promise.all(bundles.map((b) => submitBundle(s.nanshan, b)));
    expect(second.filter((r) => r.replayed)).toHaveLength(accepted.length);
    expect((await transferCount()) - before).toBe(bundles.length);
    expect(new Set(second.map((r) => r.submissionId)).size).toBe(bundles.length);
    expect(gw.running.gateway.admission.inProgress).toBe(0);
  });
});
