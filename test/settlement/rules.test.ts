/** The example rules module: each rule, the arithmetic, and "needs more information". */
import { describe, expect, it } from 'vitest';
import { signDecision } from '../../keys/formats/decision.js';
import { fenOf } from '../../keys/formats/money.js';
import { generateSigningKey } from '../../keys/jose-keys.js';
import type { AdjudicationInput, DecisionDraft } from '../../insurer-adapter/adjudicate.js';
import { icd10Chapter } from '../../insurer-adapter/rules/icd10-chapters.js';
import { adjudicate, createRules } from '../../insurer-adapter/rules/example-rules.js';
import type { TransferEnvelopeClaims } from '../../keys/formats/transfer-envelope.js';
import { createGenerator } from '../../synthetic/index.js';

const CHARGE = 'https://hdx.local/fhir/CodeSystem/charge-category';
const COVERAGE = 'https://hdx.local/fhir/CodeSystem/coverage-type';
const SI_PAID = 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

interface Shape {
  charges?: Array<[id: string, category: string, value: number]>;
  total?: number | null;
  socialInsurance?: number | null;
  diagnoses?: string[];
  admission?: string | null;
  policy?: [string, string] | null;
}

/** A de-identified-looking bundle with exactly the facts given (null: leave that fact out). */
function bundleOf(shape: Shape = {}): Record<string, unknown> {
  const charges = shape.charges ?? [['ci-1', 'surgery', 600], ['ci-2', 'drug', 300], ['ci-3', 'lab', 100]];
  const diagnoses = shape.diagnoses ?? ['K35.8'];
  const total = shape.total === undefined ? charges.reduce((s, c) => s + c[2], 0) : shape.total;
  const admission = shape.admission === undefined ? '2026-03-01T08:00:00+08:00' : shape.admission;
  const policy = shape.policy === undefined ? ['2025-06-01', '2026-06-01'] : shape.policy;
  const social = shape.socialInsurance === undefined ? 600 : shape.socialInsurance;
  const r = (resource: Record<string, unknown>) => ({ resource });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      r({ resourceType: 'Patient', id: 'psn-1' }),
      r({
        resourceType: 'Encounter',
        id: 'enc-1',
        class: { code: 'IMP' },
        ...(admission !== null && { period: { start: admission, end: '2026-03-05T10:00:00+08:00' } }),
        diagnosis: diagnoses.map((_, i) => ({ condition: { reference: `Condition/dx-${i}` }, rank: i + 1 })).reverse(),
      }),
      ...diagnoses.map((code, i) => r({ resourceType: 'Condition', id: `dx-${i}`, code: { coding: [{ system: ICD10, code }] } })),
      ...charges.map(([id, category, value]) =>
        r({ resourceType: 'ChargeItem', id, code: { coding: [{ system: CHARGE, code: category }] }, priceOverride: { value, currency: 'CNY' } }),
      ),
      ...(total !== null ? [r({ resourceType: 'Invoice', id: 'inv-1', totalGross: { value: total, currency: 'CNY' } })] : []),
      r({
        resourceType: 'Coverage',
        id: 'cov-si',
        type: { coding: [{ system: COVERAGE, code: 'social-medical-insurance' }] },
        ...(social !== null && { extension: [{ url: SI_PAID, valueMoney: { value: social, currency: 'CNY' } }] }),
      }),
      r({
        resourceType: 'Coverage',
        id: 'cov-pl',
        type: { coding: [{ system: COVERAGE, code: 'commercial-health-insurance' }] },
        identifier: [{ system: 'urn:hdx:policy-number', value: 'PL-1' }],
        ...(policy !== null && { period: { start: policy[0], end: policy[1] } }),
      }),
    ],
  };
}

const input = (bundle: Record<string, unknown>): AdjudicationInput => ({
  transferId: 'trf-1',
  claims: { hdx: { purpose: 'DIRECT_SETTLEMENT' } } as TransferEnvelopeClaims,
  bundle,
});

const decide = async (shape: Shape = {}, rules = adjudicate): Promise<DecisionDraft> => rules(input(bundleOf(shape)));

function expectConsistent(d: DecisionDraft): void {
  const a = d.amounts;
  expect(fenOf(a.socialInsurancePaid) + fenOf(a.patientPaid)).toBe(fenOf(a.totalCharges));
  expect(fenOf(a.payable) + fenOf(a.patientRemainder)).toBe(fenOf(a.patientPaid));
}

describe('example rules', () => {
  it('approves within the limits: deductible, then the coverage ratio, on what the patient paid after 医保', async () => {
    const d = await decide();
    expect(d.outcome).toBe('approved');
    // 1000 total, 600 医保 → 400 self-paid; (400 − 200) × 90% = 180.
    expect(d.amounts).toEqual({
      totalCharges: '1000.00',
      socialInsurancePaid: '600.00',
      patientPaid: '400.00',
      payable: '180.00',
      patientRemainder: '220.00',
    });
    expect(d.reasons).toEqual(['deductible', 'coverage-ratio']);
    expect(d.adjustments).toEqual([]);
    expect(d.explanation).toContain('180.00元');
    expect(d.explanation).toContain('220.00元');
  });

  it('limits a charge category per stay, across its lines in order, and pays partially', async () => {
    const d = await decide({
      charges: [['m-1', 'material', 2500], ['m-2', 'material', 1000], ['s-1', 'surgery', 4000], ['b-1', 'bed', 500]],
      socialInsurance: 4000,
    });
    expect(d.outcome).toBe('partially-approved');
    expect(d.adjustments).toEqual([{ line: 'm-2', category: 'material', claimed: '1000.00', allowed: '500.00', reason: 'category-limit' }]);
    // 8000 − 4000 = 4000 self-paid; − 500 disallowed = 3500; − 200 = 3300; × 90% = 2970.
    expect(d.amounts.payable).toBe('2970.00');
    expect(d.amounts.patientRemainder).toBe('1030.00');
    expect(d.reasons).toEqual(['category-limit', 'deductible', 'coverage-ratio']);
    expect(d.explanation).toContain('卫生材料费');
  });

  it('declines a principal diagnosis in an excluded ICD-10 chapter, judged on the principal only', async () => {
    const d = await decide({ diagnoses: ['O80'] });
    expect(d.outcome).toBe('declined');
    expect(d.reasons).toEqual(['excluded-diagnosis']);
    expect(d.amounts.payable).toBe('0.00');
    expect(d.amounts.patientRemainder).toBe('400.00');
    expect(d.explanation).toContain('妊娠');
    // A comorbidity in an excluded chapter does not decline the stay.
    expect((await decide({ diagnoses: ['K35.8', 'F32.9'] })).outcome).toBe('approved');
    expect((await decide({ diagnoses: ['K35.8'] }, createRules({ excludedChapters: ['XI'] }))).outcome).toBe('declined');
  });

  it('declines a stay outside the policy period (boundaries inclusive)', async () => {
    const d = await decide({ admission: '2026-06-02T09:00:00+08:00' });
    expect(d.outcome).toBe('declined');
    expect(d.reasons).toEqual(['outside-policy-period']);
    expect((await decide({ admission: '2026-06-01T23:00:00+08:00' })).outcome).toBe('approved');
    expect((await decide({ admission: '2025-05-31T23:00:00+08:00' })).outcome).toBe('declined');
    expect((await decide({ admission: '2026-06-02T09:00:00+08:00' }, createRules({ checkPolicyPeriod: false }))).outcome).toBe('approved');
  });

  it('declines when what is left does not exceed the deductible', async () => {
    const d = await decide({ socialInsurance: 850 });
    expect(d.outcome).toBe('declined');
    expect(d.reasons).toEqual(['deductible', 'below-deductible']);
    expect(d.amounts.patientRemainder).toBe('150.00');
  });

  it('asks for more information, naming what is missing, and pays nothing', async () => {
    const cases: Array<[Shape, string[]]> = [
      [{ diagnoses: [] }, ['missing-diagnosis']],
      [{ socialInsurance: null }, ['missing-social-insurance-share']],
      [{ charges: [], total: null }, ['missing-charges']],
      [{ admission: null }, ['missing-service-dates']],
      [{ policy: null }, ['missing-policy-period']],
      [{ total: 999 }, ['charges-inconsistent']],
      [{ socialInsurance: 2000 }, ['charges-inconsistent']],
    ];
    for (const [shape, reasons] of cases) {
      const d = await decide(shape);
      expect(d.outcome, JSON.stringify(shape)).toBe('needs-more-information');
      expect(d.reasons).toEqual(reasons);
      expect(d.amounts.payable).toBe('0.00');
      expectConsistent(d);
    }
    const noDiagnosis = await decide({ diagnoses: [] });
    expect(noDiagnosis.explanation).toContain('出院诊断');
    expect(noDiagnosis.amounts.patientPaid).toBe('400.00');
    const noShare = await decide({ socialInsurance: null });
    expect(noShare.amounts.totalCharges).toBe('0.00');
  });

  it('takes the remaining deductible from the claim system and a full coverage ratio from the config', async () => {
    const rules = createRules({ coveragePercent: 100, deductibleRemaining: () => '0.00', insurerName: '泰康在线' });
    const d = await decide({}, rules);
    expect(d.outcome).toBe('approved');
    expect(d.amounts.payable).toBe('400.00');
    expect(d.amounts.patientRemainder).toBe('0.00');
    expect(d.reasons).toEqual([]);
    expect(d.explanation).toContain('泰康在线');
  });

  it('refuses a bad configuration', () => {
    expect(() => createRules({ coveragePercent: 120 })).toThrow(TypeError);
    expect(() => createRules({ deductible: '200' })).toThrow(TypeError);
    expect(() => createRules({ categoryLimits: { bed: '-1' } })).toThrow(TypeError);
  });

  it('produces a valid, signable decision for every generated record', async () => {
    const gen = createGenerator(5);
    const key = generateSigningKey('ES256');
    const outcomes = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date('2026-03-01T00:00:00Z') });
      const d = await adjudicate(input(r.bundle as unknown as Record<string, unknown>));
      outcomes.add(d.outcome);
      expectConsistent(d);
      if (d.outcome !== 'needs-more-information') {
        expect(fenOf(d.amounts.totalCharges)).toBe(Math.round(r.totalCharges * 100));
        expect(fenOf(d.amounts.socialInsurancePaid)).toBe(Math.round(r.socialInsurancePaid * 100));
      }
      await signDecision(
        {
          iss: 'spiffe://hdx.local/insurer/taikang-online',
          aud: 'spiffe://hdx.local/gateway/gateway',
          jti: `dec-${i}`,
          hdx: {
            transfer: 'trf-1',
            submission: 'sub-1',
            envelopeDigest: `sha256:${'A'.repeat(43)}`,
            currency: 'CNY',
            decidedAt: new Date().toISOString(),
            adjustments: [],
            reasons: [],
            ...d,
          },
        },
        key.privateJwk,
      );
    }
    expect(outcomes.size).toBeGreaterThan(1);
  });
});

describe('ICD-10 chapters', () => {
  it('maps codes to chapters at the range edges', () => {
    expect(icd10Chapter('A00.0')).toBe('I');
    expect(icd10Chapter('D48')).toBe('II');
    expect(icd10Chapter('D50.1')).toBe('III');
    expect(icd10Chapter('H59')).toBe('VII');
    expect(icd10Chapter('H60')).toBe('VIII');
    expect(icd10Chapter('K80.1')).toBe('XI');
    expect(icd10Chapter('O80')).toBe('XV');
    expect(icd10Chapter('T98.3')).toBe('XIX');
    expect(icd10Chapter('z99')).toBe('XXI');
    expect(icd10Chapter('not a code')).toBeUndefined();
  });
});
