import type { ConsentServiceServer } from '../../../proto/gen/hdx/v1/consent.js';
import type { Gateway } from '../../app.js';
import { getConsent, grantConsent, listConsents, revokeConsent } from '../../consent/service.js';
import { consentOut, termsIn } from '../mapping.js';
import { requireMillisecondTimes } from '../time-precision.js';
import { unary, type Runtime } from '../wrap.js';

export function consentHandlers(gw: Gateway, rt: Runtime): ConsentServiceServer {
  return {
    grantConsent: unary(rt, 'GrantConsent', async (ctx, req) => {
      requireMillisecondTimes(req);
      const result = await grantConsent(gw, ctx, {
        idempotencyKey: req.idempotencyKey,
        patientNationalId: req.patientNationalId,
        terms: termsIn(req.terms),
      });
      return { consent: consentOut(result.consent), receipt: result.receipt, replayed: result.replayed };
    }),
    revokeConsent: unary(rt, 'RevokeConsent', async (ctx, req) => {
      const result = await revokeConsent(gw, ctx, { idempotencyKey: req.idempotencyKey, consentId: req.consentId });
      return {
        consent: consentOut(result.consent),
        receipt: result.receipt,
        replayed: result.replayed,
        withheldTransfers: result.withheldTransfers,
      };
    }),
    getConsent: unary(rt, 'GetConsent', async (ctx, req) => ({ consent: consentOut(await getConsent(gw, ctx, req.consentId)) })),
    listConsents: unary(rt, 'ListConsents', async (ctx, req) => {
      const page = await listConsents(gw, ctx, {
        ...(req.patientNationalId ? { patientNationalId: req.patientNationalId } : {}),
        ...(req.insurerId ? { insurerId: req.insurerId } : {}),
        includeInactive: req.includeInactive,
        pageSize: req.pageSize,
        ...(req.pageToken ? { pageToken: req.pageToken } : {}),
      });
      return { consents: page.consents.map(consentOut), nextPageToken: page.nextPageToken };
    }),
  };
}
