/**
 * The stay's money in standard FHIR R4 elements: the 医保 adjudication as an ExplanationOfBenefit whose
 * `total` carries `submitted` (the charges), `benefit` (what 医保 paid) and `patient-pay` (the patient's
 * share after 医保); the hospital's Invoice.totalGross stands for the charges when no EOB states them.
 * Read by the gateway's validator and by the insurer's example rules alike.
 */
import { fenOfDecimal } from '../keys/formats/money.js';
import { arrayOf, isObject, type BundleEntry, type Json } from './types.js';

export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
/** The profile's one code of its own: R4's adjudication code system has none for the patient's share. */
export const PROFILE_ADJUDICATION_SYSTEM = 'https://hdx.local/spec/v1/CodeSystem/adjudication';

export const AMOUNT_ELEMENTS = ['totalCharges', 'socialInsurancePaid', 'patientPaid'] as const;
export type AmountElement = (typeof AMOUNT_ELEMENTS)[number];

export const AMOUNT_CATEGORY: Readonly<Record<AmountElement, { system: string; code: string; display: string }>> = {
  totalCharges: { system: ADJUDICATION_SYSTEM, code: 'submitted', display: 'Submitted Amount' },
  socialInsurancePaid: { system: ADJUDICATION_SYSTEM, code: 'benefit', display: 'Benefit Amount' },
  patientPaid: { system: PROFILE_ADJUDICATION_SYSTEM, code: 'patient-pay', display: '个人负担' },
};

/** Where each amount lives, as the spec and the refusal messages name it. */
export const AMOUNT_PATH: Readonly<Record<AmountElement, string>> = {
  totalCharges: "ExplanationOfBenefit.total.where(category.coding.code = 'submitted') or Invoice.totalGross",
  socialInsurancePaid: "ExplanationOfBenefit.total.where(category.coding.code = 'benefit')",
  patientPaid: "ExplanationOfBenefit.total.where(category.coding.code = 'patient-pay')",
};

export type StayAmounts = Partial<Record<AmountElement, number>> & { invoiceTotalFen?: number };

/** A FHIR Money in CNY as integer fen; undefined for anything else. */
export function fenOfMoney(money: unknown): number | undefined {
  return isObject(money) && (money['currency'] === undefined || money['currency'] === 'CNY') ? fenOfDecimal(money['value']) : undefined;
}

export function hasCategory(concept: unknown, element: AmountElement): boolean {
  const { system, code } = AMOUNT_CATEGORY[element];
  return isObject(concept) && arrayOf(concept['coding']).some((c) => isObject(c) && c['system'] === system && c['code'] === code);
}

export function entriesOf(bundle: unknown): BundleEntry[] {
  if (!isObject(bundle)) return [];
  return arrayOf(bundle['entry']).flatMap((e) =>
    isObject(e) && isObject(e['resource'])
      ? [{ ...(typeof e['fullUrl'] === 'string' && { fullUrl: e['fullUrl'] }), resource: e['resource'] }]
      : [],
  );
}

/** The EOB that carries the 医保 adjudication: the first with any of the profile's totals. */
export function adjudicationOf(entries: readonly BundleEntry[]): Json | undefined {
  const eobs = entries.map((e) => e.resource).filter((r) => r['resourceType'] === 'ExplanationOfBenefit');
  return eobs.find((eob) => arrayOf(eob['total']).some((t) => isObject(t) && AMOUNT_ELEMENTS.some((el) => hasCategory(t['category'], el)))) ?? eobs[0];
}

export function stayAmounts(bundle: unknown): StayAmounts {
  const entries = entriesOf(bundle);
  const amounts: StayAmounts = {};
  const invoice = entries.find((e) => e.resource['resourceType'] === 'Invoice')?.resource;
  const invoiceTotal = invoice ? fenOfMoney(invoice['totalGross']) : undefined;
  if (invoiceTotal !== undefined) amounts.invoiceTotalFen = invoiceTotal;
  const eob = adjudicationOf(entries);
  for (const total of eob ? arrayOf(eob['total']) : []) {
    if (!isObject(total)) continue;
    for (const element of AMOUNT_ELEMENTS) {
      const fen = hasCategory(total['category'], element) ? fenOfMoney(total['amount']) : undefined;
      if (fen !== undefined && amounts[element] === undefined) amounts[element] = fen;
    }
  }
  if (amounts.totalCharges === undefined && invoiceTotal !== undefined) amounts.totalCharges = invoiceTotal;
  return amounts;
}
