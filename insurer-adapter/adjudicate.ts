/**
 * The adjudication hook: after a transfer is received and acknowledged, a rules module gets the decrypted
 * bundle and the envelope's claims and returns a decision draft; the adapter signs it (the insurer's key,
 * `hdx-decision+jwt`) and submits it. The signed token is kept in the inbox's decision journal *before* it
 * is sent, so a crash between the two resends the same token (a replay) rather than deciding twice.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  signDecision,
  type DecisionAdjustment,
  type DecisionAmounts,
  type DecisionClaims,
  type DecisionOutcome,
} from '../keys/formats/decision.js';
import { envelopeDigestOf } from '../keys/formats/receipt.js';
import type { TransferEnvelopeClaims } from '../keys/formats/transfer-envelope.js';
import { retryUnavailable, unaryCall } from '../proto/connect.js';
import { describeError } from '../proto/errors.js';
import type { SubmitDecisionRequest, SubmitDecisionResponse } from '../proto/gen/hdx/v1/settlement.js';
import { coalescing } from '../proto/coalesce.js';
import { journalSent, journalSigned, readJournal } from './decision-journal.js';
import type { Received } from './receive.js';
import type { InsurerSession } from './session.js';

/** What a rules module is given. */
export interface AdjudicationInput {
  transferId: string;
  /** The gateway's verified envelope claims: purpose, categories, hospital, submission, times. */
  claims: TransferEnvelopeClaims;
  /** The de-identified FHIR bundle. */
  bundle: Record<string, unknown>;
}

/** What a rules module returns; the adapter adds who, about what, and when. */
export interface DecisionDraft {
  outcome: DecisionOutcome;
  amounts: DecisionAmounts;
  adjustments?: DecisionAdjustment[];
  reasons?: string[];
  /** Plain words for the patient. */
  explanation: string;
}

export type Adjudicator = (input: AdjudicationInput) => DecisionDraft | Promise<DecisionDraft>;

/** A rules module exports `adjudicate` (or a default export that is one). */
export interface RulesModule {
  adjudicate: Adjudicator;
}

export interface Decided {
  transferId: string;
  decisionId: string;
  outcome: DecisionOutcome;
  jws: string;
  response: SubmitDecisionResponse;
}

/** What a decision is about: the transfer as the insurer received it. */
export interface DecisionSubject {
  transferId: string;
  submissionId: string;
  envelope: string;
}

/** Loads a rules module by path: JavaScript, or TypeScript (through tsx's loader, registered for it). */
export async function loadAdjudicator(modulePath: string): Promise<Adjudicator> {
  if (/\.[cm]?ts$/.test(modulePath)) (await import('tsx/esm/api')).register();
  const mod = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  const candidate = mod['adjudicate'] ?? mod['default'];
  const fn = typeof candidate === 'function' ? candidate : (candidate as Partial<RulesModule> | undefined)?.adjudicate;
  if (typeof fn !== 'function') throw new Error('the rules module must export a function `adjudicate(input)`');
  return fn as Adjudicator;
}

export function adjudicatorOf(rules: Adjudicator | RulesModule): Adjudicator {
  return typeof rules === 'function' ? rules : (input) => rules.adjudicate(input);
}

/** Signs a draft as this insurer's decision about `subject`, addressed to the gateway. */
export async function signDraft(
  session: InsurerSession,
  subject: DecisionSubject,
  draft: DecisionDraft,
  options: { decisionId?: string; revisionOf?: string; decidedAt?: Date } = {},
): Promise<{ decisionId: string; jws: string; claims: Omit<DecisionClaims, 'iat'> }> {
  const decisionId = options.decisionId ?? `dec-${randomUUID()}`;
  const claims: Omit<DecisionClaims, 'iat'> = {
    iss: session.identity.party.uri,
    aud: session.gatewayUri,
    jti: decisionId,
    hdx: {
      transfer: subject.transferId,
      submission: subject.submissionId,
      envelopeDigest: envelopeDigestOf(subject.envelope),
      outcome: draft.outcome,
      currency: 'CNY',
      amounts: draft.amounts,
      adjustments: draft.adjustments ?? [],
      reasons: draft.reasons ?? [],
      explanation: draft.explanation,
      decidedAt: (options.decidedAt ?? new Date()).toISOString(),
      ...(options.revisionOf !== undefined && { revisionOf: options.revisionOf }),
    },
  };
  return { decisionId, jws: await signDecision(claims, session.identity.signingKey), claims };
}

/**
 * Submits a signed decision; the idempotency key follows from the decision id, so a resend is a replay.
 * UNAVAILABLE (a restart, e.g. for a rotated key) is retried: otherwise the decision waits for the next outage.
 */
export function submitSignedDecision(session: InsurerSession, decisionId: string, jws: string): Promise<SubmitDecisionResponse> {
  const request = { idempotencyKey: `decide-${decisionId}`.slice(0, 128), decision: jws };
  return retryUnavailable(() => deciderOf(session)(request));
}

/** Decisions submitted in the same turn go out as one SubmitDecisions call. */
const deciders = new WeakMap<object, (d: SubmitDecisionRequest) => Promise<SubmitDecisionResponse>>();
function deciderOf(session: InsurerSession) {
  const client = session.clients.settlement;
  let decide = deciders.get(client);
  if (!decide) {
    decide = coalescing<SubmitDecisionRequest, SubmitDecisionResponse>(async (decisions: SubmitDecisionRequest[]) => {
      const { results } = await unaryCall(client, client.submitDecisions, { decisions });
      return results.map((r) => (r.recorded ? { value: r.recorded } : { refused: r.refused! }));
    });
    deciders.set(client, decide);
  }
  return decide;
}

/**
 * Runs the rules on a received transfer, signs the result and submits it. With `inbox` (the pull's --out
 * folder) the signed token is kept there first, and the gateway's answer after.
 */
export async function adjudicateAndDecide(
  session: InsurerSession,
  received: Received,
  rules: Adjudicator | RulesModule,
  options: { inbox?: string } = {},
): Promise<Decided> {
  const draft = await adjudicatorOf(rules)({ transferId: received.transferId, claims: received.claims, bundle: received.bundle });
  const subject = { transferId: received.transferId, submissionId: received.claims.hdx.submission, envelope: received.envelope };
  const { decisionId, jws } = await signDraft(session, subject, draft);
  if (options.inbox) await journalSigned(options.inbox, { transferId: received.transferId, decisionId, outcome: draft.outcome, jws });
  return send(session, received.transferId, decisionId, draft.outcome, jws, options.inbox);
}

async function send(
  session: InsurerSession,
  transferId: string,
  decisionId: string,
  outcome: DecisionOutcome,
  jws: string,
  inbox: string | undefined,
): Promise<Decided> {
  const response = await submitSignedDecision(session, decisionId, jws);
  const decided = { transferId, decisionId, outcome, jws, response };
  if (inbox) await journalSent(inbox, { transferId, decisionId, outcome, recordedAt: response.recordedAt, replayed: response.replayed });
  return decided;
}

/** One transfer's decision, or why it could not be made (the transfer stays pending in the inbox). */
export type DecideOutcome = { transferId: string; ok: true; decided: Decided } | { transferId: string; ok: false; reason: string };

/**
 * Finishes what a crash interrupted in an inbox folder: a signed decision not yet confirmed is resent, and
 * a received transfer without a decision is adjudicated. One failure does not stop the others. With
 * `only`, just those transfers (one offered again: its decision, if any, is resent, not made anew).
 */
export async function adjudicatePending(
  session: InsurerSession,
  inbox: string,
  rules: Adjudicator | RulesModule,
  options: { only?: readonly string[] } = {},
): Promise<DecideOutcome[]> {
  if (!existsSync(inbox)) return [];
  const journal = readJournal(inbox);
  const outcomes: DecideOutcome[] = [];
  const names = options.only ? options.only.map((t) => `${t}.claims.json`).filter((n) => existsSync(join(inbox, n))) : readdirSync(inbox);
  for (const name of names.filter((n) => n.endsWith('.claims.json')).sort()) {
    const transferId = name.slice(0, -'.claims.json'.length);
    if (journal.sent.has(transferId)) continue;
    try {
      outcomes.push({ transferId, ok: true, decided: await finish(session, inbox, transferId, rules, journal) });
    } catch (error) {
      outcomes.push({ transferId, ok: false, reason: describeError(error) });
    }
  }
  return outcomes;
}

async function finish(
  session: InsurerSession,
  inbox: string,
  transferId: string,
  rules: Adjudicator | RulesModule,
  journal: ReturnType<typeof readJournal>,
): Promise<Decided> {
  const signed = journal.signed.get(transferId);
  if (signed) return send(session, transferId, signed.decisionId, signed.outcome, signed.jws, inbox);
  const stored = JSON.parse(readFileSync(join(inbox, `${transferId}.claims.json`), 'utf8')) as TransferEnvelopeClaims & { envelope: string };
  const { envelope, ...claims } = stored;
  const bundlePath = join(inbox, `${transferId}.bundle.json`);
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as Record<string, unknown>;
  return adjudicateAndDecide(session, { transferId, claims, bundle, bundlePath, envelope }, rules, { inbox });
}
