/** The desk's settlement of one stay, from the insurers' decisions. */
import { describe, expect, it } from 'vitest';
import { applyDecision, type StayDecision } from '../../hospital-adapter/settlement.js';

const amounts = (payable: string, remainder: string) => ({
  totalCharges: '1000.00',
  socialInsurancePaid: '600.00',
  patientPaid: '400.00',
  payable,
  patientRemainder: remainder,
});
const d = (cursor: number, transferId: string, insurerId: string, outcome: StayDecision['outcome'], payable: string, remainder: string): StayDecision => ({
  cursor,
  transferId,
  insurerId,
  decisionId: `dec-${cursor}`,
  outcome,
  amounts: amounts(payable, remainder),
  recordedAt: '2026-03-01T08:00:00Z',
});

describe('stay settlement', () => {
  it('states charges, 医保, the insurer share and the remainder; a revision replaces the decision', () => {
    let s = applyDecision(undefined, 'sub-1', d(1, 't-1', 'taikang-online', 'partially-approved', '180.00', '220.00'));
    expect(s).toMatchObject({ totalCharges: '1000.00', socialInsurancePaid: '600.00', insurerPaid: '180.00', patientRemainder: '220.00', final: true });
    s = applyDecision(s, 'sub-1', d(2, 't-1', 'taikang-online', 'approved', '400.00', '0.00'));
    expect(s).toMatchObject({ insurerPaid: '400.00', patientRemainder: '0.00' });
    // Replaying an older decision changes nothing.
    expect(applyDecision(s, 'sub-1', d(1, 't-1', 'taikang-online', 'partially-approved', '180.00', '220.00'))).toBe(s);
  });

  it('adds two insurers’ shares but never leaves the patient owing less than nothing; one insurer pays once', () => {
    let s = applyDecision(undefined, 'sub-2', d(1, 't-a', 'taikang-online', 'approved', '300.00', '100.00'));
    s = applyDecision(s, 'sub-2', d(2, 't-b', 'pingan-health', 'approved', '300.00', '100.00'));
    expect(s).toMatchObject({ insurerPaid: '600.00', patientRemainder: '0.00' });
    // The same insurer deciding a second transfer of the same stay: its latest decision counts.
    let t = applyDecision(undefined, 'sub-3', d(1, 't-a', 'taikang-online', 'approved', '300.00', '100.00'));
    t = applyDecision(t, 'sub-3', d(2, 't-a2', 'taikang-online', 'approved', '300.00', '100.00'));
    expect(t).toMatchObject({ insurerPaid: '300.00', patientRemainder: '100.00' });
  });

  it('is not final while an insurer needs more information, and takes the record’s figures from a real decision', () => {
    let s = applyDecision(undefined, 'sub-4', {
      ...d(1, 't-a', 'taikang-online', 'needs-more-information', '0.00', '0.00'),
      amounts: { totalCharges: '0.00', socialInsurancePaid: '0.00', patientPaid: '0.00', payable: '0.00', patientRemainder: '0.00' },
    });
    expect(s.final).toBe(false);
    s = applyDecision(s, 'sub-4', d(2, 't-b', 'pingan-health', 'declined', '0.00', '400.00'));
    expect(s).toMatchObject({ final: false, totalCharges: '1000.00', insurerPaid: '0.00', patientRemainder: '400.00' });
  });
});
