/** Recording and revoking patients' consent grants, as captured at the hospital's deposit desk. */
import { verifyConsentReceipt } from '../keys/formats/receipt.js';
import { DataCategory } from '../proto/gen/hdx/v1/common.js';
import type { ConsentTerms, GrantConsentResponse, RevokeConsentResponse } from '../proto/gen/hdx/v1/consent.js';
import { unaryCall } from '../proto/connect.js';
import type { HospitalSession } from './session.js';

export const CATEGORY_BY_NAME: Record<string, DataCategory> = {
  encounter: DataCategory.DATA_CATEGORY_ENCOUNTER,
  diagnosis: DataCategory.DATA_CATEGORY_DIAGNOSIS,
  procedure: DataCategory.DATA_CATEGORY_PROCEDURE,
  medication: DataCategory.DATA_CATEGORY_MEDICATION,
  lab: DataCategory.DATA_CATEGORY_LAB,
  charges: DataCategory.DATA_CATEGORY_CHARGES,
  notes: DataCategory.DATA_CATEGORY_NOTES,
};

async function gatewayJwks(session: HospitalSession) {
  const directory = await unaryCall(session.clients.directory, session.clients.directory.getJwks, {});
  return JSON.parse(directory.jwksJson);
}

/** Grants a consent and checks the gateway's signed receipt before reporting success. */
export async function grantConsent(
  session: HospitalSession,
  request: { idempotencyKey: string; patientNationalId: string; terms: ConsentTerms },
): Promise<GrantConsentResponse> {
  const response = await unaryCall(session.clients.consent, session.clients.consent.grantConsent, request);
  await verifyConsentReceipt(response.receipt, await gatewayJwks(session), {
    audience: session.identity.party.uri,
    issuer: session.gatewayUri,
  });
  return response;
}

export async function revokeConsent(
  session: HospitalSession,
  request: { idempotencyKey: string; consentId: string },
): Promise<RevokeConsentResponse> {
  const response = await unaryCall(session.clients.consent, session.clients.consent.revokeConsent, request);
  await verifyConsentReceipt(response.receipt, await gatewayJwks(session), {
    audience: session.identity.party.uri,
    issuer: session.gatewayUri,
  });
  return response;
}
