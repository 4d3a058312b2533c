/**
 * The discharge profile, enforced: `validateDischargeBundle` is what the gateway runs on every
 * submission and what `hdx hospital validate` runs on a hospital's export with no gateway. Order:
 * the JSON Schema (structure), one Patient and one Encounter, the resident ID, the operator's mappings
 * (amounts carried elsewhere → the 医保 ExplanationOfBenefit), then what the purpose needs.
 */
import { AMOUNT_PATH, entriesOf, stayAmounts, type AmountElement, type StayAmounts } from './amounts.js';
import { applyMappings, DEFAULT_INTAKE, type IntakeConfig } from './intake.js';
import { residentIdOf } from './resident-id.js';
import { compileSchema, readSchema } from './schemas.js';
import { arrayOf, isObject, type BundleEntry, type Json, type ProfilePurpose, type Problem } from './types.js';

export const PROFILE_ID = 'hdx-discharge/v1';

/** ICD-10 as China codes it: WHO's URI, or the WS 364 code table OID used in WS/T 500 documents. */
export const ICD10_SYSTEMS = ['http://hl7.org/fhir/sid/icd-10', 'urn:oid:2.16.156.10011.2.3.3.11'];
/** ICD-9-CM-3 procedures: the ICD-9-CM URI, or the WS 364 手术(操作)代码表 OID. */
export const ICD9CM3_SYSTEMS = ['http://hl7.org/fhir/sid/icd-9-cm', 'urn:oid:2.16.156.10011.2.3.3.12'];
/** A category letter and two digits, then the 国家临床版 extension (K35.800x001, I10.x00x002). */
const ICD10_CODE = /^[A-Z]\d{2}(\.[0-9A-Za-z]{1,10})?$/;

export interface ValidationOptions {
  purpose?: ProfilePurpose;
  config?: IntakeConfig;
  /** The submitting hospital's party id: mappings may apply to some hospitals only. */
  hospitalId?: string;
}

export interface ValidationResult {
  problems: Problem[];
  /** The resident ID, normalised; only when there are no problems with it. */
  residentId?: string;
  /** Amount elements filled in from the operator's mappings (the bundle was changed in place). */
  mapped: AmountElement[];
  amounts: StayAmounts;
}

const validateStructure = compileSchema(readSchema('discharge-bundle.schema.json'));

const located = (entries: BundleEntry[], type: string) =>
  entries.flatMap((e, index) => (e.resource['resourceType'] === type ? [{ resource: e.resource, path: `Bundle.entry[${index}].resource(${type})` }] : []));

function codedIn(concept: unknown, systems: readonly string[]): Json[] {
  return isObject(concept)
    ? arrayOf(concept['coding']).filter((c): c is Json => isObject(c) && typeof c['system'] === 'string' && systems.includes(c['system']))
    : [];
}

export function validateDischargeBundle(bundle: unknown, options: ValidationOptions = {}): ValidationResult {
  const config = options.config ?? DEFAULT_INTAKE;
  const none: ValidationResult = { problems: [], mapped: [], amounts: {} };
  if (!isObject(bundle) || bundle['resourceType'] !== 'Bundle') {
    return { ...none, problems: [{ path: 'Bundle.resourceType', expected: 'must be "Bundle"' }] };
  }
  const problems = validateStructure(bundle, 'Bundle');
  const entries = entriesOf(bundle);
  const patients = located(entries, 'Patient');
  const encounters = located(entries, 'Encounter');
  if (patients.length !== 1) problems.push({ path: 'Bundle.entry', expected: 'must contain exactly one Patient' });
  if (encounters.length !== 1) problems.push({ path: 'Bundle.entry', expected: 'must contain exactly one Encounter' });

  let residentId: string | undefined;
  if (patients.length === 1) {
    const found = residentIdOf(patients[0]!.resource, patients[0]!.path, config.residentId);
    problems.push(...found.problems);
    residentId = found.residentId;
  }
  const encounter = encounters.length === 1 ? encounters[0]! : undefined;
  const period = isObject(encounter?.resource['period']) ? (encounter.resource['period'] as Json) : undefined;
  if (period && typeof period['start'] === 'string' && typeof period['end'] === 'string' && Date.parse(period['end']) < Date.parse(period['start'])) {
    problems.push({ path: `${encounter!.path}.period.end`, expected: 'must not be before period.start' });
  }

  const before = stayAmounts(bundle);
  const { mapped, problems: mappingProblems } = applyMappings(bundle, config, options.hospitalId, before);
  problems.push(...mappingProblems);
  const amounts = mapped.length > 0 ? stayAmounts(bundle) : before;
  problems.push(...amountConsistency(amounts));
  if (options.purpose) problems.push(...purposeNeeds(options.purpose, entries, amounts));
  return { problems, ...(problems.length === 0 && residentId !== undefined && { residentId }), mapped, amounts };
}

function amountConsistency(a: StayAmounts): Problem[] {
  const problems: Problem[] = [];
  if (a.totalCharges !== undefined && a.invoiceTotalFen !== undefined && a.totalCharges !== a.invoiceTotalFen) {
    problems.push({ path: AMOUNT_PATH.totalCharges, expected: 'the EOB’s submitted total must equal Invoice.totalGross' });
  }
  if (a.totalCharges !== undefined && a.socialInsurancePaid !== undefined && a.socialInsurancePaid > a.totalCharges) {
    problems.push({ path: AMOUNT_PATH.socialInsurancePaid, expected: 'must not exceed the total charges' });
  }
  if (a.totalCharges !== undefined && a.socialInsurancePaid !== undefined && a.patientPaid !== undefined && a.socialInsurancePaid + a.patientPaid !== a.totalCharges) {
    problems.push({ path: AMOUNT_PATH.patientPaid, expected: 'must equal the total charges less the 医保-paid share' });
  }
  return problems;
}

const AMOUNT_MEANING: Readonly<Record<AmountElement, string>> = {
  totalCharges: 'the total charges',
  socialInsurancePaid: 'the 医保-paid share',
  patientPaid: 'the patient’s share',
};

const PURPOSE_AMOUNTS: Readonly<Record<ProfilePurpose, readonly AmountElement[]>> = {
  DIRECT_SETTLEMENT: ['totalCharges', 'socialInsurancePaid'],
  CLAIM: ['totalCharges'],
  STATISTICS: [],
};

/** What adjudication needs: amounts, an ICD-10 diagnosis, ICD-9-CM-3 procedure codes (dates: always). */
function purposeNeeds(purpose: ProfilePurpose, entries: BundleEntry[], amounts: StayAmounts): Problem[] {
  if (purpose === 'STATISTICS') return [];
  const problems: Problem[] = [];
  for (const element of PURPOSE_AMOUNTS[purpose]) {
    if (amounts[element] === undefined) {
      problems.push({ path: AMOUNT_PATH[element], expected: `is required for ${purpose} (${AMOUNT_MEANING[element]}: Money in CNY)` });
    }
  }
  const conditions = located(entries, 'Condition');
  const diagnosed = conditions.filter(({ resource }) => codedIn(resource['code'], ICD10_SYSTEMS).length > 0);
  if (diagnosed.length === 0) {
    problems.push({ path: 'Bundle.entry.resource(Condition).code', expected: `must include a diagnosis coded in ICD-10 (${ICD10_SYSTEMS.join(' or ')}) for ${purpose}` });
  }
  for (const { resource, path } of diagnosed) {
    if (!codedIn(resource['code'], ICD10_SYSTEMS).every((c) => typeof c['code'] === 'string' && ICD10_CODE.test(c['code']))) {
      problems.push({ path: `${path}.code.coding`, expected: 'must hold ICD-10 codes shaped like K35.8 or K35.800x001' });
    }
  }
  for (const { resource, path } of located(entries, 'Procedure')) {
    if (codedIn(resource['code'], ICD9CM3_SYSTEMS).length === 0) {
      problems.push({ path: `${path}.code`, expected: `must carry an ICD-9-CM-3 coding (${ICD9CM3_SYSTEMS.join(' or ')}) for ${purpose}` });
    }
  }
  return problems;
}
