/**
 * An example rules module for `hdx insurer pull --adjudicate`, shaped like a 百万医疗-style policy, for an
 * insurer to copy and adapt. Rules, in the order they apply:
 *
 *  1. needs-more-information: the bundle lacks a fact some rule needs (service dates, principal diagnosis,
 *     charge lines, the 医保 share, the policy period), or its charges do not add up;
 *  2. policy period: the admission date must fall inside the commercial Coverage's period → else declined;
 *  3. excluded ICD-10 chapters: a principal diagnosis in an excluded chapter → declined;
 *  4. per-category limits: per stay, by charge category; lines above the limit are adjusted (partially);
 *  5. deductible, then coverage ratio, on what the patient paid after 医保 less the disallowed amounts.
 *
 * Money is integer fen throughout. Simplification, stated: disallowed amounts are taken to be wholly self-
 * paid (医保 paid nothing on them), and the deductible is per claim; a real insurer looks up the policy's
 * remaining annual deductible in its claim system (pass `deductibleRemaining`).
 */
import { amountOf, fenOf } from '../../keys/formats/money.js';
import type { DecisionAdjustment } from '../../keys/formats/decision.js';
import type { AdjudicationInput, Adjudicator, DecisionDraft } from '../adjudicate.js';
import { missingFacts, readFacts, totalOf, type ClaimFacts, type MissingFact } from './bundle-facts.js';
import { ICD10_CHAPTER_NAMES, icd10Chapter } from './icd10-chapters.js';

export interface RulesConfig {
  /** How the explanation names the insurer, e.g. 泰康在线. */
  insurerName: string;
  /** Per-claim deductible, CNY ("200.00"). */
  deductible: string;
  /** Share paid after the deductible, in percent (0–100). */
  coveragePercent: number;
  /** Most paid per stay for a charge category (codes of the hospital's fee list), CNY. */
  categoryLimits: Readonly<Record<string, string>>;
  /** ICD-10 chapters (Roman numerals) the policy excludes, judged on the principal diagnosis. */
  excludedChapters: readonly string[];
  /** Require the policy period in the bundle and the stay inside it. */
  checkPolicyPeriod: boolean;
  /** The policy's remaining deductible, if the claim system knows it (overrides `deductible`). */
  deductibleRemaining?: (input: AdjudicationInput) => string | undefined;
}

export const DEFAULT_RULES: RulesConfig = {
  insurerName: '本公司',
  deductible: '200.00',
  coveragePercent: 90,
  categoryLimits: { bed: '3000.00', nursing: '2000.00', material: '3000.00' },
  excludedChapters: ['V', 'XV', 'XVII'],
  checkPolicyPeriod: true,
};

const CATEGORY_NAMES: Readonly<Record<string, string>> = {
  bed: '床位费',
  drug: '药品费',
  lab: '化验费',
  imaging: '影像检查费',
  surgery: '手术费',
  nursing: '护理费',
  material: '卫生材料费',
  exam: '检查费',
};

const MISSING_TEXT: Readonly<Record<MissingFact, string>> = {
  'missing-service-dates': '就诊日期',
  'missing-diagnosis': '出院诊断（ICD-10）',
  'missing-charges': '费用明细',
  'missing-social-insurance-share': '医保支付金额',
  'missing-policy-period': '保单有效期',
  'charges-inconsistent': '一致的费用合计（明细之和与发票总额或医保支付不符）',
};

const yuan = (fen: number) => `${amountOf(fen)}元`;

export function createRules(overrides: Partial<RulesConfig> = {}): Adjudicator {
  const config: RulesConfig = { ...DEFAULT_RULES, ...overrides };
  if (!(config.coveragePercent >= 0 && config.coveragePercent <= 100)) throw new TypeError('coveragePercent must be 0–100');
  fenOf(config.deductible);
  for (const limit of Object.values(config.categoryLimits)) fenOf(limit);
  return (input) => adjudicateWith(config, input);
}

function adjudicateWith(config: RulesConfig, input: AdjudicationInput): DecisionDraft {
  const facts = readFacts(input.bundle);
  const missing = missingFacts(facts, { policyPeriod: config.checkPolicyPeriod });
  if (missing.length > 0) return needsMoreInformation(facts, missing);

  const total = totalOf(facts)!;
  const socialInsurance = facts.socialInsurancePaidFen!;
  const patientPaid = total - socialInsurance;
  const stated = { totalCharges: amountOf(total), socialInsurancePaid: amountOf(socialInsurance), patientPaid: amountOf(patientPaid) };
  const summary = `本次费用合计${yuan(total)}，医保已支付${yuan(socialInsurance)}，个人负担${yuan(patientPaid)}。`;
  const nothing = { ...stated, payable: '0.00', patientRemainder: amountOf(patientPaid) };

  if (config.checkPolicyPeriod && !withinPolicy(facts)) {
    return {
      outcome: 'declined',
      amounts: nothing,
      reasons: ['outside-policy-period'],
      explanation: `${summary}就诊日期不在您的保单有效期（${facts.policyStart}至${facts.policyEnd}）内，${config.insurerName}本次不予赔付，个人负担部分需由您自行支付。`,
    };
  }
  const chapter = icd10Chapter(facts.principalDiagnosis!);
  if (chapter && config.excludedChapters.includes(chapter)) {
    const name = ICD10_CHAPTER_NAMES[chapter] ?? `ICD-10第${chapter}章疾病`;
    return {
      outcome: 'declined',
      amounts: nothing,
      reasons: ['excluded-diagnosis'],
      explanation: `${summary}本次主要诊断属于保单责任免除范围（${name}），${config.insurerName}本次不予赔付，个人负担部分需由您自行支付。`,
    };
  }

  const adjustments = applyCategoryLimits(config, facts);
  const disallowed = adjustments.reduce((sum, a) => sum + fenOf(a.claimed) - fenOf(a.allowed), 0);
  const eligible = Math.max(0, patientPaid - disallowed);
  const deductible = fenOf(config.deductibleRemaining?.(input) ?? config.deductible);
  const afterDeductible = Math.max(0, eligible - deductible);
  const payable = Math.min(patientPaid, Math.round((afterDeductible * config.coveragePercent) / 100));
  const amounts = { ...stated, payable: amountOf(payable), patientRemainder: amountOf(patientPaid - payable) };
  const reasons = [
    ...(adjustments.length > 0 ? ['category-limit'] : []),
    ...(Math.min(deductible, eligible) > 0 ? ['deductible'] : []),
    ...(config.coveragePercent < 100 && afterDeductible > 0 ? ['coverage-ratio'] : []),
  ];
  const limitText = adjustments.length > 0
    ? `其中${[...new Set(adjustments.map((a) => CATEGORY_NAMES[a.category ?? ''] ?? a.category ?? '部分项目'))].join('、')}超出保单分项限额，超出部分${yuan(disallowed)}不予赔付；`
    : '';
  const terms = `扣除免赔额${yuan(Math.min(deductible, eligible))}后按${config.coveragePercent}%赔付`;

  if (payable === 0) {
    const belowDeductible = eligible <= deductible;
    const why = belowDeductible ? `可赔付金额${yuan(eligible)}未超过免赔额${yuan(deductible)}` : '按保单约定赔付比例为0';
    return {
      outcome: 'declined',
      amounts,
      adjustments,
      reasons: [...reasons.filter((r) => r !== 'coverage-ratio'), belowDeductible ? 'below-deductible' : 'nothing-payable'],
      explanation: `${summary}${limitText}${why}，${config.insurerName}本次无需赔付，个人负担部分需由您自行支付。`,
    };
  }
  return {
    outcome: adjustments.length > 0 ? 'partially-approved' : 'approved',
    amounts,
    adjustments,
    reasons,
    explanation: `${summary}${limitText}${terms}，${config.insurerName}支付${yuan(payable)}，您还需支付${yuan(patientPaid - payable)}。`,
  };
}

function needsMoreInformation(facts: ClaimFacts, missing: MissingFact[]): DecisionDraft {
  // "As the record stated": the amounts only when the record states both; otherwise zeros.
  const total = totalOf(facts);
  const social = facts.socialInsurancePaidFen;
  const known = total !== undefined && social !== undefined && social <= total;
  const patientPaid = known ? total - social : 0;
  return {
    outcome: 'needs-more-information',
    amounts: {
      totalCharges: amountOf(known ? total : 0),
      socialInsurancePaid: amountOf(known ? social : 0),
      patientPaid: amountOf(patientPaid),
      payable: '0.00',
      patientRemainder: amountOf(patientPaid),
    },
    reasons: missing,
    explanation: `理赔所需资料不完整，缺少：${missing.map((m) => MISSING_TEXT[m]).join('、')}。请医院补充后重新提交，补齐前本次费用暂由您按个人负担部分结算。`,
  };
}

/** Admission date within [policy start, policy end], as calendar dates. */
function withinPolicy(facts: ClaimFacts): boolean {
  return facts.admissionDate! >= facts.policyStart! && facts.admissionDate! <= facts.policyEnd!;
}

/** Allocates each limited category's allowance over its lines in bundle order; returns reduced lines. */
function applyCategoryLimits(config: RulesConfig, facts: ClaimFacts): DecisionAdjustment[] {
  const left = new Map(Object.entries(config.categoryLimits).map(([k, v]) => [k, fenOf(v)]));
  const adjustments: DecisionAdjustment[] = [];
  for (const line of facts.charges) {
    const category = line.category;
    const room = category === undefined ? undefined : left.get(category);
    if (room === undefined) continue;
    const allowed = Math.min(line.fen, room);
    left.set(category!, room - allowed);
    if (allowed < line.fen) {
      adjustments.push({ line: line.id, category: category!, claimed: amountOf(line.fen), allowed: amountOf(allowed), reason: 'category-limit' });
    }
  }
  return adjustments;
}

/** The default rules, for `--adjudicate insurer-adapter/rules/example-rules.ts`. */
export const adjudicate: Adjudicator = createRules();
export default adjudicate;
