/**
 * Who sees and who revokes a consent, over real mTLS: one access rule for ListConsents, GetConsent and
 * RevokeConsent alike (issue 14 items 1 and 4). A hospital sees the consents it recorded or that name it —
 * not "any hospital" consents recorded elsewhere; an insurer sees those naming it; the regulator sees all;
 * only hospitals revoke.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent, revokeConsent } from '../../hospital-adapter/consent.js';
import type { HospitalSession } from '../../hospital-adapter/session.js';
import { unaryCall } from '../../proto/connect.js';
import type { ConsentServiceClient } from '../../proto/gen/hdx/v1/consent.js';
import { createGenerator } from '../../synthetic/index.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { expectStatus } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const patient = createGenerator(1414).patient().nationalId;
/** Consent ids by name: A = nanshan's any-hospital consent for taikang, B = szu's any-hospital one for
 * pingan, C = nanshan's for pingan naming both hospitals, D = szu's for taikang naming szu only. */
const id: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' };

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  s = await openSessions(ex, gw);
  const grant = async (session: HospitalSession, overrides: Parameters<typeof terms>[0]) =>
    (await grantConsent(session, { idempotencyKey: idem('g'), patientNationalId: patient, terms: terms(overrides) })).consent!.consentId;
  id.A = await grant(s.nanshan, { insurerId: 'taikang-online', anyHospital: true, hospitalIds: [] });
  id.B = await grant(s.szu, { insurerId: 'pingan-health', anyHospital: true, hospitalIds: [] });
  id.C = await grant(s.nanshan, { insurerId: 'pingan-health', hospitalIds: ['nanshan-people', 'szu-general'] });
  id.D = await grant(s.szu, { insurerId: 'taikang-online', hospitalIds: ['szu-general'] });
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const consentClient = (name: keyof Omit<Sessions, 'closeAll'>): ConsentServiceClient =>
  name === 'regulator' ? s.regulator.clients.consent : s[name].clients.consent;

async function listed(name: keyof Omit<Sessions, 'closeAll'>, request: { insurerId?: string; pageSize?: number } = {}) {
  const client = consentClient(name);
  const seen: string[] = [];
  let pageToken = '';
  do {
    const page = await unaryCall(client, client.listConsents, {
      patientNationalId: '',
      insurerId: request.insurerId ?? '',
      includeInactive: true,
      pageSize: request.pageSize ?? 0,
      pageToken,
    });
    seen.push(...page.consents.map((c) => c.consentId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return seen.sort();
}

const VISIBLE: Record<keyof Omit<Sessions, 'closeAll'>, Array<keyof typeof id>> = {
  nanshan: ['A', 'C'],
  szu: ['B', 'C', 'D'],
  taikang: ['A', 'D'],
  pingan: ['B', 'C'],
  regulator: ['A', 'B', 'C', 'D'],
};
const callers = Object.keys(VISIBLE) as Array<keyof typeof VISIBLE>;

describe('one access rule for every consent read', () => {
  for (const caller of callers) {
    it(`${caller}: ListConsents (one page and page by page) and GetConsent show the same consents`, async () => {
      const expected = VISIBLE[caller].map((k) => id[k]).sort();
      expect(await listed(caller)).toEqual(expected);
      expect(await listed(caller, { pageSize: 1 })).toEqual(expected);
      const client = consentClient(caller);
      for (const key of Object.keys(id) as Array<keyof typeof id>) {
        const get = unaryCall(client, client.getConsent, { consentId: id[key] });
        if (VISIBLE[caller].includes(key)) expect((await get).consent!.consentId).toBe(id[key]);
        else await expectStatus(get, status.NOT_FOUND, /^consent not found$/);
      }
    });
  }

  it('an insurer filtering on another insurer sees nothing of it', async () => {
    expect(await listed('taikang', { insurerId: 'pingan-health' })).toEqual([]);
    expect(await listed('regulator', { insurerId: 'pingan-health' })).toEqual([id.B, id.C].sort());
  });
});

describe('who revokes', () => {
  it('an insurer may not revoke: PERMISSION_DENIED saying who may', async () => {
    await expectStatus(
      unaryCall(s.taikang.clients.consent, s.taikang.clients.consent.revokeConsent, { idempotencyKey: idem('r'), consentId: id.A }),
      status.PERMISSION_DENIED,
      /only a hospital may revoke/,
    );
    await expectStatus(
      unaryCall(s.regulator.clients.consent, s.regulator.clients.consent.revokeConsent, { idempotencyKey: idem('r'), consentId: id.A }),
      status.PERMISSION_DENIED,
      /only a hospital may revoke/,
    );
  });

  it('a hospital revokes what it sees and gets NOT_FOUND for another hospital’s any-hospital consent', async () => {
    await expectStatus(revokeConsent(s.nanshan, { idempotencyKey: idem('r'), consentId: id.B }), status.NOT_FOUND, /^consent not found$/);
    // Named in C though nanshan recorded it: szu may revoke at its desk.
    const revoked = await revokeConsent(s.szu, { idempotencyKey: idem('r'), consentId: id.C });
    expect(revoked.consent!.consentId).toBe(id.C);
    expect(revoked.consent!.revokedAt).toBeDefined();
  });
});
