/**
 * Submission of a discharge record. The gateway validates the bundle, finds every live consent that
 * covers it, and for each consenting insurer builds a sealed, signed transfer; with none it refuses
 * (FAILED_PRECONDITION), audits the denial and stores nothing. A retry with the same idempotency key
 * returns the first answer and creates no second transfer.
 */
import { digestOf, digestOfJson } from '../../keys/canonical.js';
import { verifySubmission } from '../../keys/formats/submission.js';
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import { coveringConsents, viewOf } from '../consent/service.js';
import { patientKeyOf, patientRef } from '../consent/patient-id.js';
import { PURPOSES, type Purpose } from '../consent/terms.js';
import type { CallContext } from '../context.js';
import { IdempotencyKeyTaken, InvalidInput, NoConsent, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import type { SealResult } from '../seal/seal-task.js';
import { signedRefusal, verifiedOrRefused } from '../signed-refusal.js';
import { requireIdempotencyKey } from '../storage/idempotency.js';
import type { StoreTx } from '../storage/store.js';
import { validateBundle } from './validate.js';

export interface SubmitRequest {
  idempotencyKey: string;
  bundle: Uint8Array;
  purpose: Purpose | undefined;
  signature: string;
}

export interface SubmitResult {
  submissionId: string;
  transfers: Array<{ transferId: string; insurerId: string; consentId: string }>;
  acceptedAt: Date;
  bundleDigest: string;
  replayed: boolean;
}

type Stored = Omit<SubmitResult, 'replayed' | 'acceptedAt'> & { acceptedAt: number };

export async function submitRecord(gw: Gateway, ctx: CallContext, request: SubmitRequest): Promise<SubmitResult> {
  requireRole(ctx, 'hospital');
  requireIdempotencyKey(request.idempotencyKey);
  const purpose = request.purpose;
  if (!purpose || !PURPOSES.includes(purpose)) throw new InvalidInput('purpose is required');
  const bundleDigest = digestOf(request.bundle);
  const requestDigest = digestOfJson({ bundleDigest, purpose });
  // A retry of an accepted submission gets its answer even when the gateway is at capacity.
  const replay = await gw.idempotency.lookup<Stored>(ctx.party.id, 'SubmitRecord', request.idempotencyKey, requestDigest);
  if (replay) return { ...replay, acceptedAt: new Date(replay.acceptedAt), replayed: true };
  return gw.admission.run(() => admitted(gw, ctx, request, purpose, bundleDigest, requestDigest));
}

async function admitted(
  gw: Gateway,
  ctx: CallContext,
  request: SubmitRequest,
  purpose: Purpose,
  bundleDigest: string,
  requestDigest: string,
): Promise<SubmitResult> {
  const record = validateBundle(request.bundle, {
    maxBytes: gw.settings.maxBundleBytes,
    purpose,
    intake: gw.settings.intake,
    hospitalId: ctx.party.id,
  });
  await verifyHospitalSignature(gw, ctx, request, bundleDigest, purpose);
  const patientKey = patientKeyOf(gw.secrets, record.residentId, 'Patient.identifier (resident ID)');
  const covering = await coveringConsents(gw, {
    patientKey,
    hospitalId: ctx.party.id,
    purpose,
    serviceStart: record.serviceStart,
    serviceEnd: record.serviceEnd,
  });
  // A consent naming an insurer no longer registered is skipped (and audited): the others still proceed.
  const recipients = covering.flatMap((row) => {
    const insurer = gw.parties.byId(row.insurer_id);
    return insurer?.role === 'insurer' ? [{ row, insurer }] : [];
  });
  const skipped = covering.filter((row) => !recipients.some((r) => r.row === row));
  const auditSkips = async (tx: StoreTx, submissionId?: string) => {
    for (const row of skipped) {
      await gw.audit.append(tx, {
        action: 'transfer.skip',
        actor: 'gateway',
        outcome: 'refused',
        consent: row.consent_id,
        ...(submissionId ? { submission: submissionId } : {}),
        // No patient reference: the consent (and the submission) already lead to it.
        parties: [row.insurer_id],
        details: { reason: 'insurer-not-registered' },
      });
    }
  };

  if (recipients.length === 0) {
    await gw.commit(async (tx) => {
      await auditSkips(tx);
      await gw.audit.append(tx, {
        action: 'record.deny',
        actor: ctx.party.id,
        outcome: 'denied',
        patient: patientRef(patientKey),
        details: { reason: covering.length === 0 ? 'no-consent' : 'insurer-not-registered', purpose, bundleDigest },
      });
    });
    if (covering.length > 0) throw new NoConsent('the consents covering this record name insurers no longer registered');
    throw new NoConsent('no active consent covers this patient, hospital, purpose and date of service');
  }

  const submissionId = newId('sub');
  const now = gw.clock();
  // The submitted bytes themselves (validated above) go to the seal workers; when an intake mapping filled
  // in an amount, the worker fills it in on its own parse (cheaper than re-serialising the bundle here).
  const bundle = request.bundle;
  const mapping = record.mapped ? { mapping: { intake: gw.settings.intake, hospitalId: ctx.party.id } } : {};
  const sealed = await Promise.all(
    recipients.map(async ({ row, insurer }) => {
      const consent = viewOf(gw, row);
      const transferId = newId('trf');
      const pseudonym = gw.secrets.pseudonym(row.insurer_id, patientKey);
      const result: SealResult = await gw.sealer.seal({
        bundle,
        ...mapping,
        deid: {
          purpose,
          categories: consent.terms.categories,
          pseudonym,
          policyNumber: consent.terms.policyNumber,
          keys: gw.secrets.deidKeys(row.insurer_id),
          hospitalIdentifierSystems: record.identifierSystems,
        },
        recipientJwk: gw.parties.encryptionKey(row.insurer_id, new Date(now)),
        claims: {
          iss: gw.signer.uri,
          aud: insurer.uri,
          sub: pseudonym,
          jti: transferId,
          hdx: {
            consent: row.consent_id,
            purpose,
            categories: [...consent.terms.categories].sort(),
            hospital: ctx.party.uri,
            submission: submissionId,
            submittedAt: new Date(now).toISOString(),
            submissionDigest: bundleDigest,
          },
        },
      });
      return { row, transferId, pseudonym, result };
    }),
  );

  const stored = await gw.commit(async (tx): Promise<Stored> => {
    const raced = await tx.idempotency.lookup<Stored>(ctx.party.id, 'SubmitRecord', request.idempotencyKey, requestDigest);
    if (raced) return raced;
    // A consent revoked while we were sealing must not get its transfer.
    const live = [];
    for (const s of sealed) if ((await tx.consents.get(s.row.consent_id))?.revoked_at === null) live.push(s);
    if (live.length === 0) throw new NoConsent('the covering consents were revoked during submission');
    await auditSkips(tx, submissionId);
    await tx.submissions.insert({
      submission_id: submissionId,
      hospital_id: ctx.party.id,
      bundle_digest: bundleDigest,
      purpose,
      encounter_class: record.encounterClass,
      service_start: record.serviceStart,
      service_end: record.serviceEnd,
      signature: request.signature || null,
      accepted_at: now,
    });
    await gw.audit.append(tx, {
      action: 'record.submit',
      actor: ctx.party.id,
      outcome: 'ok',
      submission: submissionId,
      patient: patientRef(patientKey),
      parties: live.map((s) => s.row.insurer_id),
      details: {
        purpose,
        bundleDigest,
        ...(request.signature ? { signatureDigest: digestOf(request.signature) } : {}),
        encounterClass: record.encounterClass,
        transfers: live.length,
      },
    });
    for (const s of live) {
      await tx.transfers.insert({
        transfer_id: s.transferId,
        submission_id: submissionId,
        insurer_id: s.row.insurer_id,
        consent_id: s.row.consent_id,
        pseudonym: s.pseudonym,
        patient_ref: patientRef(patientKey),
        envelope: s.result.envelope,
        envelope_digest: s.result.envelopeDigest,
        payload: s.result.payload,
        created_at: now,
      });
      await gw.audit.append(tx, {
        action: 'transfer.create',
        actor: 'gateway',
        outcome: 'ok',
        consent: s.row.consent_id,
        submission: submissionId,
        transfer: s.transferId,
        patient: patientRef(patientKey),
        parties: [ctx.party.id, s.row.insurer_id],
        details: {
          pseudonym: s.pseudonym,
          envelopeDigest: s.result.envelopeDigest,
          payloadDigest: s.result.payloadDigest,
          profile: s.result.report.profile,
          methods: s.result.report.methods,
          detectors: s.result.report.detectors,
          resourcesDropped: s.result.report.resourcesDropped,
          resourcesOut: s.result.report.resourcesOut,
        },
      });
    }
    const result: Stored = {
      submissionId,
      transfers: live.map((s) => ({ transferId: s.transferId, insurerId: s.row.insurer_id, consentId: s.row.consent_id })),
      acceptedAt: now,
      bundleDigest,
    };
    await tx.idempotency.remember(ctx.party.id, 'SubmitRecord', request.idempotencyKey, requestDigest, result, now);
    return result;
  }).catch(async (error: unknown) => {
    // Another replica committed this key first: answer with its result.
    const first = error instanceof IdempotencyKeyTaken
      ? await gw.idempotency.lookup<Stored>(ctx.party.id, 'SubmitRecord', request.idempotencyKey, requestDigest)
      : undefined;
    if (!first) throw error;
    return first;
  });
  for (const t of stored.transfers) gw.events.publish(`transfer:${t.insurerId}`);
  return { ...stored, acceptedAt: new Date(stored.acceptedAt), replayed: stored.submissionId !== submissionId };
}

/** The hospital's JWS over the bundle digest: required unless the gateway is configured otherwise. */
async function verifyHospitalSignature(
  gw: Gateway,
  ctx: CallContext,
  request: SubmitRequest,
  bundleDigest: string,
  purpose: Purpose,
): Promise<void> {
  if (!request.signature) {
    if (gw.settings.requireSubmissionSignature) throw new InvalidInput('signature is required: sign the bundle digest');
    return;
  }
  const claims = await verifiedOrRefused('signature', () =>
    verifySubmission(request.signature, gw.parties.signingJwks(ctx.party.id), {
      audience: gw.signer.uri,
      issuer: ctx.party.uri,
    }),
  );
  if (claims.hdx.bundleDigest !== bundleDigest) throw signedRefusal('signature', 'digest', 'it covers another bundle');
  if (claims.jti !== request.idempotencyKey) throw signedRefusal('signature', 'jti', 'it is for another idempotency_key');
  if (claims.hdx.purpose !== purpose) throw signedRefusal('signature', 'purpose', 'it is for another purpose');
}

export async function getSubmission(gw: Gateway, ctx: CallContext, submissionId: string) {
  requireRole(ctx, 'hospital', 'regulator');
  const row = await gw.submissions.get(submissionId);
  if (!row || (ctx.party.role === 'hospital' && row.hospital_id !== ctx.party.id)) {
    throw new NotFound('submission not found');
  }
  return {
    submissionId: row.submission_id,
    acceptedAt: new Date(row.accepted_at),
    transfers: (await gw.transfers.forSubmission(submissionId)).map((t) => ({
      transferId: t.transfer_id,
      insurerId: t.insurer_id,
      state: t.state,
      deliveredAt: t.delivered_at,
      acknowledgedAt: t.acknowledged_at,
      decidedAt: t.decided_at,
    })),
  };
}
