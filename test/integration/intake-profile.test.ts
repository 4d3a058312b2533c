/**
 * The discharge profile at the gateway, end to end over mTLS: national OIDs accepted, a 医保 share in a
 * hospital's own extension mapped onto the standard EOB, de-identified, delivered and settled by the
 * insurer's example rules, and a direct-settlement bundle without amounts refused at submit.
 */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { adjudicateAndDecide } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { readFacts } from '../../insurer-adapter/rules/bundle-facts.js';
import { NATIONAL_ID_OID, parseIntakeConfig, type Json } from '../../profile/index.js';
import { consentAndSubmit, expectStatus, receive } from '../settlement/support.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { bundleOf, HOSPITAL_EXTENSION, recordsFrom, withHospitalExtension, withoutAmounts, withResidentIdSystem } from '../profile/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordsFrom(4242);

beforeAll(async () => {
  ex = await createTestExchange();
  const intake = parseIntakeConfig({
    version: 1,
    mappings: [{ element: 'socialInsurancePaid', extension: HOSPITAL_EXTENSION, hospitals: ['nanshan-people'] }],
  });
  gw = await startTestGateway(ex, { settings: { intake } });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

/** The record with its bundle replaced, for consentAndSubmit. */
const reshaped = (r: ReturnType<typeof record>, bundle: Json) => ({ ...r, bundle: bundle as unknown as typeof r.bundle });

describe('the gateway enforces the discharge profile', () => {
  it('accepts a bundle that names the resident ID with the WS/T 500 national OID', async () => {
    const r = record();
    const submitted = await consentAndSubmit(s.nanshan, reshaped(r, withResidentIdSystem(bundleOf(r), NATIONAL_ID_OID)), 'taikang-online');
    expect(submitted.transfers).toHaveLength(1);
  });

  it('maps a 医保 share from the hospital’s own extension onto the EOB; it reaches the insurer and the example rules settle it', async () => {
    const r = record();
    const submitted = await consentAndSubmit(s.nanshan, reshaped(r, withHospitalExtension(bundleOf(r))), 'taikang-online');
    const received = await receive(s.taikang, join(ex.root, 'inbox'), submitted.transfers[0]!.transferId);
    // The hospital's extension itself is not delivered (de-identification keeps only standard elements).
    expect(JSON.stringify(received.bundle)).not.toContain(HOSPITAL_EXTENSION);
    expect(readFacts(received.bundle).socialInsurancePaidFen).toBe(Math.round(r.socialInsurancePaid * 100));

    const decided = await adjudicateAndDecide(s.taikang, received, adjudicate);
    expect(decided.outcome).not.toBe('needs-more-information');
    const claims = decodeJwt(decided.jws) as { hdx: { amounts: Record<string, string>; reasons?: string[] } };
    expect(claims.hdx.reasons ?? []).not.toContain('missing-social-insurance-share');
    expect(claims.hdx.amounts['socialInsurancePaid']).toBe(r.socialInsurancePaid.toFixed(2));
    expect(claims.hdx.amounts['totalCharges']).toBe(r.totalCharges.toFixed(2));
  });

  it('does not map another hospital’s extension: the bundle lacks its 医保 share and is refused', async () => {
    const r = record('szu-general');
    await expectStatus(
      consentAndSubmit(s.szu, reshaped(r, withHospitalExtension(bundleOf(r))), 'taikang-online'),
      status.INVALID_ARGUMENT,
      /for DIRECT_SETTLEMENT: ExplanationOfBenefit\.total\.where\(category\.coding\.code = 'benefit'\) is required/,
    );
  });

  it('refuses a direct-settlement bundle without amounts with INVALID_ARGUMENT naming them, not a value from the bundle', async () => {
    const r = record();
    const bundle = withoutAmounts(bundleOf(r));
    const error = await expectStatus(
      consentAndSubmit(s.nanshan, reshaped(r, bundle), 'taikang-online'),
      status.INVALID_ARGUMENT,
      /Invoice\.totalGross is required for DIRECT_SETTLEMENT \(the total charges: Money in CNY\); .*'benefit'\) is required for DIRECT_SETTLEMENT \(the 医保-paid share/,
    );
    for (const value of r.identifiers) expect(error.details).not.toContain(value);
    // The same bundle passes the profile for statistics, which needs no amounts (and then lacks consent).
    await expect(submitBundle(s.nanshan, Buffer.from(JSON.stringify(bundle)), 'STATISTICS')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });
});
