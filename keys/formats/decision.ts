/**
 * The insurer's settlement decision (`hdx-decision+jwt`): "for the transfer whose envelope has this
 * digest, I decide this; I pay this much of what the record says the patient owes after 医保". Signed by
 * the insurer, addressed to the gateway, forwarded unchanged to the submitting hospital, which verifies it
 * against the insurer's registered keys. `jti` is the decision id, chosen by the insurer; a later decision
 * on the same transfer names the one it replaces in `revisionOf`.
 *
 * Amounts are CNY decimal strings (see money.ts) and must add up:
 *   totalCharges = socialInsurancePaid + patientPaid   (as the hospital's record stated)
 *   patientPaid  = payable + patientRemainder          (payable: what this insurer pays)
 * A declined or needs-more-information decision pays nothing.
 *
 * `explanation` is plain words for the patient. It is health-financial information: the gateway routes the
 * token but never copies the explanation, the amounts or the adjustments into its logs or audit events.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { digestOf } from '../canonical.js';
import { VerificationError } from '../errors.js';
import { arrayAt } from '../json-guard.js';
import {
  codeAt,
  digestAt,
  instantStringAt,
  malformed,
  misuse,
  nowSeconds,
  numericDateAt,
  objectAt,
  oneOf,
  partyUriAt,
  tokenAt,
  type Fail,
} from './claims.js';
import { signJwt, verifyJwt, type VerifyOptions } from './jws.js';
import { fenOf, isAmount } from './money.js';

export const DECISION_TYP = 'hdx-decision+jwt';

export const DECISION_OUTCOMES = ['approved', 'partially-approved', 'declined', 'needs-more-information'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

/** Only yuan for now; the member exists so that the format need not change for another currency. */
export const DECISION_CURRENCIES = ['CNY'] as const;

const MAX_ADJUSTMENTS = 500;
const MAX_REASONS = 32;
const MAX_EXPLANATION = 2000;

export interface DecisionAmounts {
  /** The bill's total, as the record stated (Invoice.totalGross or the sum of its ChargeItems). */
  totalCharges: string;
  /** What 医保 paid, as the record stated. */
  socialInsurancePaid: string;
  /** What was left for the patient after 医保, as the record stated. */
  patientPaid: string;
  /** What this insurer pays. */
  payable: string;
  /** What the patient still owes after this decision. */
  patientRemainder: string;
}

/** One charge line the insurer did not allow in full. */
export interface DecisionAdjustment {
  /** The line's id in the bundle the insurer received (the de-identified ChargeItem id). */
  line: string;
  /** The line's charge category code, e.g. `material`. */
  category?: string;
  claimed: string;
  allowed: string;
  /** Why, as a code, e.g. `category-limit`, `excluded-item`. */
  reason: string;
}

export interface DecisionClaims {
  /** The insurer's URI. */
  iss: string;
  /** The gateway's URI. */
  aud: string;
  /** The decision id, chosen by the insurer. */
  jti: string;
  iat: number;
  hdx: {
    /** The transfer id. */
    transfer: string;
    /** The submission id (from the envelope), so that the hospital can match its record. */
    submission: string;
    /** `digestOf(envelope JWS)`: the transfer as the insurer received it. */
    envelopeDigest: string;
    outcome: DecisionOutcome;
    currency: (typeof DECISION_CURRENCIES)[number];
    amounts: DecisionAmounts;
    adjustments: DecisionAdjustment[];
    /** Decision-level reason codes, e.g. `deductible`, `missing-diagnosis`. May be empty. */
    reasons: string[];
    /** Plain words for the patient, at most 2,000 characters. */
    explanation: string;
    /** RFC 3339. */
    decidedAt: string;
    /** The id of the decision this one replaces (the transfer's latest). */
    revisionOf?: string;
  };
}

export type DecisionClaimsInput = Omit<DecisionClaims, 'iat'> & { iat?: number };

export interface VerifyDecisionOptions extends VerifyOptions {
  /** If given, the decision must name this transfer. */
  transfer?: string;
  /** If given, the decision must be over the envelope with this digest. */
  envelopeDigest?: string;
}

/** `digestOf(jws)`: how audit events and the hospital refer to a decision. */
export function decisionDigestOf(decisionJws: string): string {
  return digestOf(decisionJws);
}

/** Signs a decision with the insurer's private JWK; `iat` defaults to now. Checks the amounts add up. */
export async function signDecision(claims: DecisionClaimsInput, privateJwk: JWK): Promise<string> {
  const checked = decisionClaims({ ...claims, iat: claims?.iat ?? nowSeconds() }, misuse);
  return signJwt({ ...checked }, privateJwk, DECISION_TYP);
}

/**
 * Verifies a decision against the insurer's JWKS, for `options.audience` (the gateway's URI): signature,
 * claim schema, arithmetic, and (if asked) the transfer and envelope it is about. Throws `VerificationError`.
 */
export async function verifyDecision(
  jws: string,
  insurerJwks: JSONWebKeySet,
  options: VerifyDecisionOptions,
): Promise<DecisionClaims> {
  if (options?.transfer !== undefined && typeof options.transfer !== 'string') throw new TypeError('transfer must be a string');
  if (options?.envelopeDigest !== undefined && typeof options.envelopeDigest !== 'string') {
    throw new TypeError('envelopeDigest must be a string');
  }
  const { payload } = await verifyJwt(jws, insurerJwks, DECISION_TYP, options);
  const claims = decisionClaims(payload, malformed);
  if (options.transfer !== undefined && options.transfer !== claims.hdx.transfer) {
    throw new VerificationError('ERR_DIGEST', 'decision is about another transfer');
  }
  if (options.envelopeDigest !== undefined && options.envelopeDigest !== claims.hdx.envelopeDigest) {
    throw new VerificationError('ERR_DIGEST', 'decision does not match the envelope');
  }
  return claims;
}

/**
 * Reads a decision's claims without verifying its signature: only to learn who to fetch keys for (`iss`)
 * before `verifyDecision`. Never act on the result.
 */
export function peekDecisionIssuer(jws: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(String(jws).split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

function decisionClaims(value: unknown, fail: Fail): DecisionClaims {
  const c = objectAt(value, 'claims', fail);
  const hdx = objectAt(c['hdx'], 'hdx', fail);
  const outcome = oneOf(hdx['outcome'], 'hdx.outcome', DECISION_OUTCOMES, fail);
  const amounts = amountsAt(hdx['amounts'], fail);
  checkOutcomePays(outcome, amounts, fail);
  const revisionOf = hdx['revisionOf'] === undefined ? undefined : tokenAt(hdx['revisionOf'], 'hdx.revisionOf', fail);
  const jti = tokenAt(c['jti'], 'jti', fail);
  if (revisionOf === jti) throw fail('hdx.revisionOf must name another decision');
  return {
    iss: partyUriAt(c['iss'], 'iss', 'insurer', fail),
    aud: partyUriAt(c['aud'], 'aud', 'gateway', fail),
    jti,
    iat: numericDateAt(c['iat'], 'iat', fail),
    hdx: {
      transfer: tokenAt(hdx['transfer'], 'hdx.transfer', fail),
      submission: tokenAt(hdx['submission'], 'hdx.submission', fail),
      envelopeDigest: digestAt(hdx['envelopeDigest'], 'hdx.envelopeDigest', fail),
      outcome,
      currency: oneOf(hdx['currency'], 'hdx.currency', DECISION_CURRENCIES, fail),
      amounts,
      adjustments: adjustmentsAt(hdx['adjustments'], fail),
      reasons: reasonsAt(hdx['reasons'], fail),
      explanation: explanationAt(hdx['explanation'], fail),
      decidedAt: instantStringAt(hdx['decidedAt'], 'hdx.decidedAt', fail),
      ...(revisionOf !== undefined && { revisionOf }),
    },
  };
}

function amountAt(value: unknown, path: string, fail: Fail): string {
  if (!isAmount(value)) throw fail(`${path} must be an amount with two decimals`);
  return value;
}

function amountsAt(value: unknown, fail: Fail): DecisionAmounts {
  const a = objectAt(value, 'hdx.amounts', fail);
  const amounts: DecisionAmounts = {
    totalCharges: amountAt(a['totalCharges'], 'hdx.amounts.totalCharges', fail),
    socialInsurancePaid: amountAt(a['socialInsurancePaid'], 'hdx.amounts.socialInsurancePaid', fail),
    patientPaid: amountAt(a['patientPaid'], 'hdx.amounts.patientPaid', fail),
    payable: amountAt(a['payable'], 'hdx.amounts.payable', fail),
    patientRemainder: amountAt(a['patientRemainder'], 'hdx.amounts.patientRemainder', fail),
  };
  const fen = (k: keyof DecisionAmounts) => fenOf(amounts[k]);
  if (fen('socialInsurancePaid') + fen('patientPaid') !== fen('totalCharges')) {
    throw fail('hdx.amounts: socialInsurancePaid + patientPaid must equal totalCharges');
  }
  if (fen('payable') + fen('patientRemainder') !== fen('patientPaid')) {
    throw fail('hdx.amounts: payable + patientRemainder must equal patientPaid');
  }
  return amounts;
}

function checkOutcomePays(outcome: DecisionOutcome, amounts: DecisionAmounts, fail: Fail): void {
  if ((outcome === 'declined' || outcome === 'needs-more-information') && fenOf(amounts.payable) !== 0) {
    throw fail('hdx.amounts.payable must be 0.00 when the outcome pays nothing');
  }
}

function adjustmentsAt(value: unknown, fail: Fail): DecisionAdjustment[] {
  return arrayAt(value, 'hdx.adjustments', fail, MAX_ADJUSTMENTS).map((item, i) => {
    const path = `hdx.adjustments[${i}]`;
    const a = objectAt(item, path, fail);
    const claimed = amountAt(a['claimed'], `${path}.claimed`, fail);
    const allowed = amountAt(a['allowed'], `${path}.allowed`, fail);
    if (fenOf(allowed) > fenOf(claimed)) throw fail(`${path}.allowed must not exceed claimed`);
    return {
      line: tokenAt(a['line'], `${path}.line`, fail),
      ...(a['category'] !== undefined && { category: codeAt(a['category'], `${path}.category`, fail) }),
      claimed,
      allowed,
      reason: codeAt(a['reason'], `${path}.reason`, fail),
    };
  });
}

function reasonsAt(value: unknown, fail: Fail): string[] {
  const reasons = arrayAt(value, 'hdx.reasons', fail, MAX_REASONS).map((r, i) => codeAt(r, `hdx.reasons[${i}]`, fail));
  if (new Set(reasons).size !== reasons.length) throw fail('hdx.reasons has duplicates');
  return reasons;
}

function explanationAt(value: unknown, fail: Fail): string {
  // Length in code points: Chinese text is what this field mostly holds.
  if (typeof value !== 'string' || value.trim().length === 0 || [...value].length > MAX_EXPLANATION) {
    throw fail(`hdx.explanation must be 1 to ${MAX_EXPLANATION} characters`);
  }
  // No control characters besides line breaks: the hospital prints this for the patient.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(value)) throw fail('hdx.explanation has control characters');
  return value;
}
