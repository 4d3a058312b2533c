/**
 * What the example rules read from a de-identified discharge bundle, found defensively (the bundle is a
 * hospital's data, de-identified by the gateway: any element may be absent). Each fact that cannot be
 * found is reported as a `missing-*` code, which a rule turns into "needs more information".
 *
 * Shapes read (FHIR R4): Encounter.class/period/diagnosis (rank 1 = principal), Condition.code (ICD-10),
 * ChargeItem.code (charge category) and priceOverride (the line total), Invoice.totalGross, the 医保
 * adjudication (ExplanationOfBenefit.total, profile v1; docs/spec/v1/input-profile.md) or, in transfers
 * made before it, the 医保 Coverage's `social-insurance-paid` extension, and the commercial Coverage's period.
 */
import { fenOfDecimal } from '../../keys/formats/money.js';
import { stayAmounts } from '../../profile/amounts.js';
import { ICD10_SYSTEMS } from '../../profile/validate.js';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const CHARGE_CATEGORY_SYSTEM = 'https://hdx.local/fhir/CodeSystem/charge-category';
export const SOCIAL_INSURANCE_PAID_URL = 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid';
const COVERAGE_TYPE_SYSTEM = 'https://hdx.local/fhir/CodeSystem/coverage-type';

export interface ChargeLine {
  /** The ChargeItem's id in the bundle (pseudonymous: a hash the gateway made). */
  id: string;
  category?: string;
  fen: number;
}

export interface ClaimFacts {
  encounterClass?: string;
  /** Local calendar dates as written in the record (YYYY-MM-DD). */
  admissionDate?: string;
  dischargeDate?: string;
  /** ICD-10 code of the principal diagnosis. */
  principalDiagnosis?: string;
  diagnoses: string[];
  charges: ChargeLine[];
  totalFen?: number;
  socialInsurancePaidFen?: number;
  policyStart?: string;
  policyEnd?: string;
}

export type MissingFact =
  | 'missing-service-dates'
  | 'missing-diagnosis'
  | 'missing-charges'
  | 'missing-social-insurance-share'
  | 'missing-policy-period'
  | 'charges-inconsistent';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const dateOf = (v: unknown): string | undefined =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : undefined;

function resources(bundle: unknown): Array<{ fullUrl?: string; resource: Json }> {
  if (!isObject(bundle)) return [];
  return arrayOf(bundle['entry']).flatMap((e) =>
    isObject(e) && isObject(e['resource'])
      ? [{ ...(typeof e['fullUrl'] === 'string' && { fullUrl: e['fullUrl'] }), resource: e['resource'] }]
      : [],
  );
}

function codeIn(concept: unknown, system: string | readonly string[]): string | undefined {
  if (!isObject(concept)) return undefined;
  const systems = typeof system === 'string' ? [system] : system;
  for (const coding of arrayOf(concept['coding'])) {
    if (isObject(coding) && systems.includes(coding['system'] as string) && typeof coding['code'] === 'string') return coding['code'];
  }
  return undefined;
}

function moneyFen(money: unknown): number | undefined {
  return isObject(money) && (money['currency'] === undefined || money['currency'] === 'CNY')
    ? fenOfDecimal(money['value'])
    : undefined;
}

export function readFacts(bundle: unknown): ClaimFacts {
  const entries = resources(bundle);
  const ofType = (type: string) => entries.filter((e) => e.resource['resourceType'] === type);
  const encounter = ofType('Encounter')[0]?.resource;
  const conditions = ofType('Condition');
  const facts: ClaimFacts = { diagnoses: [], charges: [] };

  if (encounter) {
    const cls = encounter['class'];
    if (isObject(cls) && typeof cls['code'] === 'string') facts.encounterClass = cls['code'];
    const period = encounter['period'];
    if (isObject(period)) {
      const start = dateOf(period['start']);
      const end = dateOf(period['end']);
      if (start) facts.admissionDate = start;
      if (end) facts.dischargeDate = end;
    }
  }

  for (const c of conditions) {
    const code = codeIn(c.resource['code'], ICD10_SYSTEMS);
    if (code) facts.diagnoses.push(code);
  }
  const principal = principalCondition(encounter, conditions) ?? conditions[0];
  const principalCode = principal && codeIn(principal.resource['code'], ICD10_SYSTEMS);
  if (principalCode) facts.principalDiagnosis = principalCode;

  for (const { resource } of ofType('ChargeItem')) {
    const fen = moneyFen(resource['priceOverride']);
    if (fen === undefined || typeof resource['id'] !== 'string') continue;
    const category = codeIn(resource['code'], CHARGE_CATEGORY_SYSTEM);
    facts.charges.push({ id: resource['id'], fen, ...(category && { category }) });
  }
  // The Invoice's total, else the 医保 EOB's submitted amount; the 医保 share from the EOB.
  const amounts = stayAmounts(bundle);
  if (amounts.totalCharges !== undefined) facts.totalFen = amounts.totalCharges;
  if (amounts.socialInsurancePaid !== undefined) facts.socialInsurancePaidFen = amounts.socialInsurancePaid;

  for (const { resource } of ofType('Coverage')) {
    const type = codeIn(resource['type'], COVERAGE_TYPE_SYSTEM);
    if (type === 'social-medical-insurance') {
      for (const ext of arrayOf(resource['extension'])) {
        if (isObject(ext) && ext['url'] === SOCIAL_INSURANCE_PAID_URL && facts.socialInsurancePaidFen === undefined) {
          const fen = moneyFen(ext['valueMoney']);
          if (fen !== undefined) facts.socialInsurancePaidFen = fen;
        }
      }
    } else if (type === 'commercial-health-insurance' && isObject(resource['period'])) {
      const start = dateOf(resource['period']['start']);
      const end = dateOf(resource['period']['end']);
      if (start) facts.policyStart = start;
      if (end) facts.policyEnd = end;
    }
  }
  return facts;
}

/** The Condition that the Encounter ranks first, matched by `Condition/<id>` or by the entry's fullUrl. */
function principalCondition(encounter: Json | undefined, conditions: Array<{ fullUrl?: string; resource: Json }>) {
  if (!encounter) return undefined;
  const ranked = arrayOf(encounter['diagnosis'])
    .filter(isObject)
    .sort((a, b) => (typeof a['rank'] === 'number' ? a['rank'] : 99) - (typeof b['rank'] === 'number' ? b['rank'] : 99));
  const ref = isObject(ranked[0]?.['condition']) ? ranked[0]['condition']['reference'] : undefined;
  if (typeof ref !== 'string') return undefined;
  return conditions.find((c) => c.fullUrl === ref || `Condition/${String(c.resource['id'])}` === ref);
}

/** The bill's total: the Invoice's, or else the sum of the charge lines. */
export function totalOf(facts: ClaimFacts): number | undefined {
  if (facts.totalFen !== undefined) return facts.totalFen;
  return facts.charges.length > 0 ? facts.charges.reduce((sum, c) => sum + c.fen, 0) : undefined;
}

/** Which facts a full adjudication needs and the bundle lacks. */
export function missingFacts(facts: ClaimFacts, options: { policyPeriod: boolean }): MissingFact[] {
  const missing: MissingFact[] = [];
  if (!facts.admissionDate) missing.push('missing-service-dates');
  if (!facts.principalDiagnosis) missing.push('missing-diagnosis');
  if (facts.charges.length === 0) missing.push('missing-charges');
  if (facts.socialInsurancePaidFen === undefined) missing.push('missing-social-insurance-share');
  if (options.policyPeriod && (!facts.policyStart || !facts.policyEnd)) missing.push('missing-policy-period');
  const total = totalOf(facts);
  const lines = facts.charges.reduce((sum, c) => sum + c.fen, 0);
  if (
    facts.charges.length > 0 &&
    total !== undefined &&
    (lines !== total || (facts.socialInsurancePaidFen !== undefined && facts.socialInsurancePaidFen > total))
  ) {
    missing.push('charges-inconsistent');
  }
  return missing;
}
