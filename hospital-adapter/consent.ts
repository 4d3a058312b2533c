/** Recording and revoking patients' consent grants, as captured at the hospital's deposit desk. */
import { verifyConsentReceipt } from '../keys/formats/receipt.js';
import { DataCategory } from '../proto/gen/hdx/v1/common.js';
import type { ConsentTerms, GrantConsentResponse, RevokeConsentResponse } from '../proto/gen/hdx/v1/consent.js';
import { retryUnavailable, unaryCall } from '../proto/connect.js';
import { withGatewayKeys } from '../proto/session.js';
import type { HospitalSession } from './session.js';

/** What adjudicating a discharge needs: everything but free-text notes (minimum necessary). */
export const ADJUDICATION_CATEGORIES: readonly DataCategory[] = [
  DataCategory.DATA_CATEGORY_ENCOUNTER,
  DataCategory.DATA_CATEGORY_DIAGNOSIS,
  DataCategory.DATA_CATEGORY_PROCEDURE,
  DataCategory.DATA_CATEGORY_MEDICATION,
  DataCategory.DATA_CATEGORY_LAB,
  DataCategory.DATA_CATEGORY_CHARGES,
];

export const CATEGORY_BY_NAME: Record<string, DataCategory> = {
  encounter: DataCategory.DATA_CATEGORY_ENCOUNTER,
  diagnosis: DataCategory.DATA_CATEGORY_DIAGNOSIS,
  procedure: DataCategory.DATA_CATEGORY_PROCEDURE,
  medication: DataCategory.DATA_CATEGORY_MEDICATION,
  lab: DataCategory.DATA_CATEGORY_LAB,
  charges: DataCategory.DATA_CATEGORY_CHARGES,
  notes: DataCategory.DATA_CATEGORY_NOTES,
};

/** The gateway's signed receipt must name us and the gateway, or the grant is not reported done. */
async function checkReceipt(session: HospitalSession, receipt: string): Promise<void> {
  await withGatewayKeys(session, (jwks) =>
    verifyConsentReceipt(receipt, jwks, {
      audience: session.identity.party.uri,
      issuer: session.gatewayUri,
    }),
  );
}

/**
 * Grants a consent and checks the gateway's signed receipt before reporting success. UNAVAILABLE is retried
 * (the idempotency key makes a grant that did land answer with its first receipt).
 */
export async function grantConsent(
  session: HospitalSession,
  request: { idempotencyKey: string; patientNationalId: string; terms: ConsentTerms },
): Promise<GrantConsentResponse> {
  const response = await retryUnavailable(() => unaryCall(session.clients.consent, session.clients.consent.grantConsent, request));
  await checkReceipt(session, response.receipt);
  return response;
}

export async function revokeConsent(
  session: HospitalSession,
  request: { idempotencyKey: string; consentId: string },
): Promise<RevokeConsentResponse> {
  const response = await retryUnavailable(() => unaryCall(session.clients.consent, session.clients.consent.revokeConsent, request));
  await checkReceipt(session, response.receipt);
  return response;
}
