/**
 * Recording an insurer's settlement decision. Steps: verify the insurer's JWS against its registered keys
 * → check, inside the transaction, that it is about a transfer delivered to this insurer and that it is the
 * transfer's first decision or a revision of its latest → record it, mark the transfer decided and append
 * the audit event in one commit → wake the submitting hospital's stream. Every refusal is audited too.
 *
 * The audit event says who decided what outcome about which transfer, and the decision's digest; the
 * amounts, adjustments and the patient's explanation stay inside the signed token.
 */
import { decisionDigestOf, verifyDecision, type DecisionClaims } from '../../keys/formats/decision.js';
import { VerificationError } from '../../keys/errors.js';
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { Conflict, HdxError, IdempotencyKeyTaken, InvalidInput, NotFound, PreconditionFailed } from '../errors.js';
import { requireIdempotencyKey } from '../storage/idempotency.js';
import type { TransferRow } from '../storage/transfers.js';
import type { StoreTx } from '../storage/store.js';
import { refusalOf } from '../signed-refusal.js';
import { refuseDecision, type RefusalReason } from './refuse.js';

export interface SubmitDecisionRequest {
  idempotencyKey: string;
  decision: string;
}

export interface DecisionRecorded {
  decisionId: string;
  transferId: string;
  recordedAt: Date;
  replayed: boolean;
}

type Stored = Omit<DecisionRecorded, 'replayed' | 'recordedAt'> & { recordedAt: number };

/** What the in-transaction checks concluded. */
type Verdict =
  | { kind: 'recorded'; stored: Stored; transfer: TransferRow; hospitalId: string }
  | { kind: 'replay'; stored: Stored }
  | { kind: 'refused'; reason: RefusalReason; error: HdxError; transfer?: TransferRow };

const METHOD = 'SubmitDecision';

export async function submitDecision(gw: Gateway, ctx: CallContext, request: SubmitDecisionRequest): Promise<DecisionRecorded> {
  requireRole(ctx, 'insurer');
  requireIdempotencyKey(request.idempotencyKey);
  if (typeof request.decision !== 'string' || request.decision.length === 0) throw new InvalidInput('decision is required');
  const digest = decisionDigestOf(request.decision);
  const replay = await gw.idempotency.lookup<Stored>(ctx.party.id, METHOD, request.idempotencyKey, digest);
  if (replay) return { ...replay, recordedAt: new Date(replay.recordedAt), replayed: true };

  const claims = await verifyOrRefuse(gw, ctx, request.decision, digest);
  const verdict = await gw.commit(async (tx): Promise<Verdict> => {
    const v = await evaluate(gw, tx, ctx, claims, digest);
    if (v.kind !== 'refused') {
      // Remember the key for a recorded decision and for a replay under a new key alike.
      if (!(await tx.idempotency.lookup(ctx.party.id, METHOD, request.idempotencyKey, digest))) {
        await tx.idempotency.remember(ctx.party.id, METHOD, request.idempotencyKey, digest, v.stored, gw.clock());
      }
    }
    if (v.kind === 'recorded') await record(gw, tx, ctx, claims, request.decision, digest, v);
    return v;
  }).catch(async (error: unknown) => {
    // Another replica committed this key first: answer as its replay.
    if (!(error instanceof IdempotencyKeyTaken)) throw error;
    const first = await gw.idempotency.lookup<Stored>(ctx.party.id, METHOD, request.idempotencyKey, digest);
    if (!first) throw error;
    return { kind: 'replay', stored: first } satisfies Verdict;
  });
  if (verdict.kind === 'refused') {
    await refuseDecision(gw, ctx, verdict.reason, digest, verdict.transfer);
    throw verdict.error;
  }
  if (verdict.kind === 'recorded') gw.events.publish(`decision:${verdict.hospitalId}`);
  return { ...verdict.stored, recordedAt: new Date(verdict.stored.recordedAt), replayed: verdict.kind === 'replay' };
}

async function verifyOrRefuse(gw: Gateway, ctx: CallContext, jws: string, digest: string): Promise<DecisionClaims> {
  try {
    return await verifyDecision(jws, gw.parties.signingJwks(ctx.party.id), { audience: gw.signer.uri, issuer: ctx.party.uri });
  } catch (error) {
    const malformed = error instanceof VerificationError && error.code === 'ERR_MALFORMED';
    await refuseDecision(gw, ctx, malformed ? 'malformed' : 'bad-signature', digest);
    throw refusalOf('decision', error);
  }
}

/** Inside the transaction, so two racing decisions cannot both be "the first". */
async function evaluate(gw: Gateway, tx: StoreTx, ctx: CallContext, claims: DecisionClaims, digest: string): Promise<Verdict> {
  const transfer = await tx.transfers.get(claims.hdx.transfer);
  // Another insurer's transfer is indistinguishable from a missing one.
  if (!transfer || transfer.insurer_id !== ctx.party.id) {
    return { kind: 'refused', reason: 'unknown-transfer', error: new NotFound('transfer not found'), ...(transfer && { transfer }) };
  }
  const refuse = (reason: RefusalReason, error: HdxError): Verdict => ({ kind: 'refused', reason, error, transfer });

  const same = await tx.decisions.get(ctx.party.id, claims.jti);
  if (same) {
    if (same.decision_digest === digest && same.transfer_id === transfer.transfer_id) {
      return { kind: 'replay', stored: { decisionId: same.decision_id, transferId: same.transfer_id, recordedAt: same.recorded_at } };
    }
    return refuse('decision-id-reused', new Conflict('decision id (jti) was already used for a different decision'));
  }
  if (transfer.state === 'pending') {
    return refuse('not-delivered', new PreconditionFailed('transfer has not been delivered to this insurer'));
  }
  if (transfer.state === 'withheld') {
    return refuse('withheld', new PreconditionFailed('transfer was withheld: its consent is no longer valid'));
  }
  if (claims.hdx.envelopeDigest !== transfer.envelope_digest || claims.hdx.submission !== transfer.submission_id) {
    return refuse('envelope-mismatch', new InvalidInput('decision does not name the envelope and submission of this transfer'));
  }
  const latest = await tx.decisions.latestForTransfer(transfer.transfer_id);
  const revisionOf = claims.hdx.revisionOf;
  if (latest && revisionOf === undefined) {
    return refuse(
      'already-decided',
      new Conflict('transfer already has a decision; a new one must be a revision naming the latest (revisionOf)'),
    );
  }
  if (revisionOf !== undefined && latest?.decision_id !== revisionOf) {
    return refuse(
      'stale-revision',
      new PreconditionFailed(latest ? 'revisionOf must name the transfer’s latest decision' : 'revisionOf names no decision of this transfer'),
    );
  }
  const submission = await tx.submissions.get(transfer.submission_id);
  if (!submission) throw new Error('transfer without submission');
  return {
    kind: 'recorded',
    transfer,
    hospitalId: submission.hospital_id,
    stored: { decisionId: claims.jti, transferId: transfer.transfer_id, recordedAt: gw.clock() },
  };
}

async function record(
  gw: Gateway,
  tx: StoreTx,
  ctx: CallContext,
  claims: DecisionClaims,
  jws: string,
  digest: string,
  verdict: Extract<Verdict, { kind: 'recorded' }>,
): Promise<void> {
  const { transfer, hospitalId } = verdict;
  const now = verdict.stored.recordedAt;
  await tx.decisions.insert({
    decision_id: claims.jti,
    transfer_id: transfer.transfer_id,
    submission_id: transfer.submission_id,
    hospital_id: hospitalId,
    insurer_id: ctx.party.id,
    revision_of: claims.hdx.revisionOf ?? null,
    outcome: claims.hdx.outcome,
    decision: jws,
    decision_digest: digest,
    recorded_at: now,
  });
  await tx.transfers.markDecided(transfer.transfer_id, now, now + gw.settings.retentionMs);
  await gw.audit.append(tx, {
    action: 'decision.record',
    actor: ctx.party.id,
    outcome: 'ok',
    consent: transfer.consent_id,
    submission: transfer.submission_id,
    transfer: transfer.transfer_id,
    patient: transfer.patient_ref,
    decision: claims.jti,
    parties: [hospitalId],
    details: {
      outcome: claims.hdx.outcome,
      decisionDigest: digest,
      envelopeDigest: transfer.envelope_digest,
      ...(claims.hdx.revisionOf !== undefined && { revisionOf: claims.hdx.revisionOf }),
    },
  });
}
