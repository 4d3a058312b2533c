/**
 * Consent grants and revocations. A hospital records what the patient signed at its desk; the gateway
 * keeps only the keyed hash of the patient's ID, seals the policy number at rest, answers with a signed
 * receipt, and audits every change in the same transaction.
 */
import { digestOfJson } from '../../keys/canonical.js';
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { Forbidden, IdempotencyKeyTaken, InvalidInput, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import type { ConsentRow } from '../storage/consents.js';
import { requireIdempotencyKey } from '../storage/idempotency.js';
import { patientKeyOf, patientRef } from './patient-id.js';
import { termsForDigest, validateTerms, type ConsentTerms, type DataCategory, type Purpose } from './terms.js';

export type ConsentStatus = 'active' | 'revoked' | 'expired' | 'not-yet-valid';

export interface ConsentView {
  consentId: string;
  terms: ConsentTerms;
  status: ConsentStatus;
  recordedBy: string;
  recordedAt: Date;
  revokedAt?: Date;
}

export interface ConsentResult {
  consent: ConsentView;
  receipt: string;
  replayed: boolean;
}

interface StoredResult {
  consentId: string;
  receipt: string;
  withheld?: number;
}

export function consentStatus(row: ConsentRow, now: number): ConsentStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (now < row.valid_from) return 'not-yet-valid';
  if (now >= row.valid_until) return 'expired';
  return 'active';
}

export function viewOf(gw: Gateway, row: ConsentRow): ConsentView {
  const capture = JSON.parse(row.capture) as { channel: string; capturedAt: string; noticeVersion: string; formDigest: string };
  return {
    consentId: row.consent_id,
    terms: {
      insurerId: row.insurer_id,
      policyNumber: gw.secrets.openAtRest(row.policy_sealed),
      purpose: row.purpose as Purpose,
      categories: JSON.parse(row.categories) as DataCategory[],
      hospitalIds: JSON.parse(row.hospitals) as string[],
      anyHospital: row.any_hospital === 1,
      validFrom: new Date(row.valid_from),
      validUntil: new Date(row.valid_until),
      capture: { ...capture, capturedAt: new Date(capture.capturedAt) },
    },
    status: consentStatus(row, gw.clock()),
    recordedBy: row.recorded_by,
    recordedAt: new Date(row.recorded_at),
    ...(row.revoked_at !== null ? { revokedAt: new Date(row.revoked_at) } : {}),
  };
}

export async function grantConsent(
  gw: Gateway,
  ctx: CallContext,
  request: { idempotencyKey: string; patientNationalId: string; terms: ConsentTerms },
): Promise<ConsentResult> {
  requireRole(ctx, 'hospital');
  requireIdempotencyKey(request.idempotencyKey);
  const terms = validateTerms(request.terms);
  const patientKey = patientKeyOf(gw.secrets, request.patientNationalId, 'patient_national_id');
  const insurer = gw.parties.byId(terms.insurerId);
  if (insurer?.role !== 'insurer') throw new InvalidInput('terms.insurer_id is not a registered insurer');
  for (const id of terms.hospitalIds) {
    if (gw.parties.byId(id)?.role !== 'hospital') throw new InvalidInput('terms.hospital_ids names an unregistered hospital');
  }
  if (!terms.anyHospital && !terms.hospitalIds.includes(ctx.party.id)) {
    throw new Forbidden('a hospital may record only consents that cover itself');
  }

  const termsDigest = digestOfJson(termsForDigest(terms));
  const requestDigest = digestOfJson({ patient: patientKey.toString('base64'), terms: termsDigest });
  const replay = await gw.idempotency.lookup<StoredResult>(ctx.party.id, 'GrantConsent', request.idempotencyKey, requestDigest);
  if (replay) return { ...(await replayedResult(gw, replay)), replayed: true };

  const consentId = newId('cns');
  const now = gw.clock();
  const receipt = await gw.signer.signConsentReceipt({
    consentId,
    audience: ctx.party.uri,
    action: 'granted',
    termsDigest,
    at: new Date(now),
  });
  const stored = await gw.commit(async (tx) => {
    // A concurrent retry may have committed first: answer with its result.
    const raced = await tx.idempotency.lookup<StoredResult>(ctx.party.id, 'GrantConsent', request.idempotencyKey, requestDigest);
    if (raced) return raced;
    await tx.consents.insert({
      consent_id: consentId,
      patient_key: patientKey,
      insurer_id: terms.insurerId,
      policy_sealed: gw.secrets.sealAtRest(terms.policyNumber),
      purpose: terms.purpose,
      categories: JSON.stringify(terms.categories),
      any_hospital: terms.anyHospital ? 1 : 0,
      hospitals: JSON.stringify(terms.hospitalIds),
      valid_from: terms.validFrom.getTime(),
      valid_until: terms.validUntil.getTime(),
      capture: JSON.stringify({ ...terms.capture, capturedAt: terms.capture.capturedAt.toISOString() }),
      terms_digest: termsDigest,
      recorded_by: ctx.party.id,
      recorded_at: now,
    });
    await gw.audit.append(tx, {
      action: 'consent.grant',
      actor: ctx.party.id,
      outcome: 'ok',
      consent: consentId,
      patient: patientRef(patientKey),
      parties: [terms.insurerId],
      details: {
        purpose: terms.purpose,
        categories: [...terms.categories].sort(),
        hospitals: terms.anyHospital ? ['*'] : [...terms.hospitalIds].sort(),
        termsDigest,
        validFrom: terms.validFrom.toISOString(),
        validUntil: terms.validUntil.toISOString(),
      },
    });
    const result: StoredResult = { consentId, receipt };
    await tx.idempotency.remember(ctx.party.id, 'GrantConsent', request.idempotencyKey, requestDigest, result, now);
    return result;
  }).catch(firstAnswer(gw, ctx.party.id, 'GrantConsent', request.idempotencyKey, requestDigest));
  return { ...(await replayedResult(gw, stored)), replayed: stored.consentId !== consentId };
}

/** After IdempotencyKeyTaken (another replica committed the key first), that request's answer. */
function firstAnswer(gw: Gateway, partyId: string, method: string, key: string, digest: string) {
  return async (error: unknown): Promise<StoredResult> => {
    const first = error instanceof IdempotencyKeyTaken ? await gw.idempotency.lookup<StoredResult>(partyId, method, key, digest) : undefined;
    if (!first) throw error;
    return first;
  };
}

async function replayedResult(gw: Gateway, stored: StoredResult): Promise<Omit<ConsentResult, 'replayed'>> {
  const row = await gw.consents.get(stored.consentId);
  if (!row) throw new NotFound('consent not found');
  return { consent: viewOf(gw, row), receipt: stored.receipt };
}

export async function revokeConsent(
  gw: Gateway,
  ctx: CallContext,
  request: { idempotencyKey: string; consentId: string },
): Promise<ConsentResult & { withheldTransfers: number }> {
  // The patient withdraws consent where it was given, at a hospital's desk (docs/decisions.md).
  if (ctx.party.role !== 'hospital') {
    throw new Forbidden('only a hospital may revoke a consent: the patient withdraws it at a hospital it covers');
  }
  requireIdempotencyKey(request.idempotencyKey);
  // Not revealing whether a consent the caller may not see exists.
  const row = await gw.consents.visibleTo(ctx.party, request.consentId);
  if (!row) throw new NotFound('consent not found');
  const requestDigest = digestOfJson({ consent: request.consentId });
  const replay = await gw.idempotency.lookup<StoredResult>(ctx.party.id, 'RevokeConsent', request.idempotencyKey, requestDigest);
  if (replay) return { ...(await replayedResult(gw, replay)), replayed: true, withheldTransfers: replay.withheld ?? 0 };

  const now = gw.clock();
  const recorder = gw.parties.byId(row.recorded_by);
  const receipt = await gw.signer.signConsentReceipt({
    consentId: row.consent_id,
    audience: ctx.party.uri,
    action: 'revoked',
    termsDigest: row.terms_digest,
    at: new Date(now),
  });
  const stored = await gw.commit(async (tx) => {
    const raced = await tx.idempotency.lookup<StoredResult>(ctx.party.id, 'RevokeConsent', request.idempotencyKey, requestDigest);
    if (raced) return raced;
    const revoked = await tx.consents.revoke(row.consent_id, now, ctx.party.id);
    let withheld = 0;
    if (revoked) {
      await gw.audit.append(tx, {
        action: 'consent.revoke',
        actor: ctx.party.id,
        outcome: 'ok',
        consent: row.consent_id,
        patient: patientRef(row.patient_key),
        parties: [...new Set([row.insurer_id, recorder?.id ?? row.recorded_by])].filter((p) => p !== ctx.party.id),
        details: { termsDigest: row.terms_digest },
      });
      // Revocation takes effect at once: nothing not yet acknowledged is (re)delivered.
      for (const t of await tx.transfers.withholdForConsent(row.consent_id, now)) {
        withheld += 1;
        await gw.audit.append(tx, {
          action: 'transfer.withhold',
          actor: 'gateway',
          outcome: 'ok',
          consent: row.consent_id,
          transfer: t.transfer_id,
          patient: t.patient_ref,
          parties: [t.insurer_id],
          details: { reason: 'consent-revoked' },
        });
      }
    }
    const result: StoredResult = { consentId: row.consent_id, receipt, withheld };
    await tx.idempotency.remember(ctx.party.id, 'RevokeConsent', request.idempotencyKey, requestDigest, result, now);
    return result;
  }).catch(firstAnswer(gw, ctx.party.id, 'RevokeConsent', request.idempotencyKey, requestDigest));
  return { ...(await replayedResult(gw, stored)), replayed: stored.receipt !== receipt, withheldTransfers: stored.withheld ?? 0 };
}

export async function getConsent(gw: Gateway, ctx: CallContext, consentId: string): Promise<ConsentView> {
  const row = await gw.consents.visibleTo(ctx.party, consentId);
  if (!row) throw new NotFound('consent not found');
  return viewOf(gw, row);
}

export async function listConsents(
  gw: Gateway,
  ctx: CallContext,
  request: { patientNationalId?: string; insurerId?: string; includeInactive: boolean; pageSize: number; pageToken?: string },
): Promise<{ consents: ConsentView[]; nextPageToken: string }> {
  requireRole(ctx, 'hospital', 'insurer', 'regulator');
  const limit = Math.min(Math.max(request.pageSize || 50, 1), 500);
  let after = { t: -1, id: '' };
  if (request.pageToken) {
    try {
      after = JSON.parse(Buffer.from(request.pageToken, 'base64url').toString('utf8')) as typeof after;
      if (typeof after.t !== 'number' || typeof after.id !== 'string') throw new Error('shape');
    } catch {
      throw new InvalidInput('page_token is not valid');
    }
  }
  const rows = await gw.consents.list({
    viewer: ctx.party,
    ...(request.patientNationalId
      ? { patientKey: patientKeyOf(gw.secrets, request.patientNationalId, 'patient_national_id') }
      : {}),
    ...(request.insurerId ? { insurerId: request.insurerId } : {}),
    ...(request.includeInactive ? {} : { activeAt: gw.clock() }),
    afterRecordedAt: after.t,
    afterId: after.id,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    consents: page.map((row) => viewOf(gw, row)),
    nextPageToken:
      rows.length > limit && last
        ? Buffer.from(JSON.stringify({ t: last.recorded_at, id: last.consent_id })).toString('base64url')
        : '',
  };
}

/**
 * Active consents covering a record: patient, hospital, purpose, and the service period — at most one per
 * insurer (the most recently recorded, the patient's latest word), so an insurer never receives the same
 * stay twice because the patient signed twice.
 */
export async function coveringConsents(
  gw: Gateway,
  query: { patientKey: Buffer; hospitalId: string; purpose: Purpose; serviceStart: number; serviceEnd: number },
): Promise<ConsentRow[]> {
  const now = gw.clock();
  const covering = (await gw.consents.unrevokedForPatient(query.patientKey)).filter(
    (row) =>
      consentStatus(row, now) === 'active' &&
      row.purpose === query.purpose &&
      (row.any_hospital === 1 || (JSON.parse(row.hospitals) as string[]).includes(query.hospitalId)) &&
      // The stay must overlap the consent's validity period.
      query.serviceStart < row.valid_until &&
      query.serviceEnd >= row.valid_from,
  );
  // Rows come in recording order: the last one per insurer wins.
  const latest = new Map<string, ConsentRow>();
  for (const row of covering) latest.set(row.insurer_id, row);
  return [...latest.values()];
}
