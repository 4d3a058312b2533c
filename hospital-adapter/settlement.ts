/**
 * The discharge desk's view of one stay (one submission): total charges, what 医保 paid, what the
 * commercial insurer(s) pay, and what the patient still owes. Built from the latest decision of each
 * insurer (a revision replaces the decision it revises; an insurer that got the stay twice pays once), in
 * integer fen.
 */
import type { DecisionAmounts, DecisionOutcome } from '../keys/formats/decision.js';
import { amountOf, fenOf } from '../keys/formats/money.js';

export interface StayDecision {
  cursor: number;
  transferId: string;
  insurerId: string;
  decisionId: string;
  outcome: DecisionOutcome;
  amounts: DecisionAmounts;
  recordedAt: string;
}

export interface StaySettlement {
  submissionId: string;
  totalCharges: string;
  socialInsurancePaid: string;
  /** What the commercial insurer(s) pay, together. */
  insurerPaid: string;
  patientRemainder: string;
  /** False while an insurer still needs more information. */
  final: boolean;
  /** The latest decision per transfer. */
  decisions: Record<string, StayDecision>;
}

/** The stay's settlement with `decision` applied; an older (or the same) cursor changes nothing. */
export function applyDecision(current: StaySettlement | undefined, submissionId: string, decision: StayDecision): StaySettlement {
  const previous = current?.decisions[decision.transferId];
  if (current && previous && previous.cursor >= decision.cursor) return current;
  const decisions = { ...current?.decisions, [decision.transferId]: decision };
  const latestPerInsurer = new Map<string, StayDecision>();
  for (const d of Object.values(decisions)) {
    const seen = latestPerInsurer.get(d.insurerId);
    if (!seen || seen.cursor < d.cursor) latestPerInsurer.set(d.insurerId, d);
  }
  const all = [...latestPerInsurer.values()];
  // The record's own figures: from a decision that read them (needs-more-information may state zeros).
  const basis = all.find((d) => d.outcome !== 'needs-more-information') ?? all[0]!;
  const patientPaid = fenOf(basis.amounts.patientPaid);
  const insurerPaid = all.reduce((sum, d) => sum + fenOf(d.amounts.payable), 0);
  return {
    submissionId,
    totalCharges: basis.amounts.totalCharges,
    socialInsurancePaid: basis.amounts.socialInsurancePaid,
    insurerPaid: amountOf(insurerPaid),
    // Two insurers paying the same share cannot leave the patient owing less than nothing.
    patientRemainder: amountOf(Math.max(0, patientPaid - insurerPaid)),
    final: all.every((d) => d.outcome !== 'needs-more-information'),
    decisions,
  };
}
