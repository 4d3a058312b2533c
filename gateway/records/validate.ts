/**
 * First-line validation of a submitted FHIR R4 Bundle against the published discharge profile
 * (profile/, docs/spec/v1/input-profile.md): the same checks `hdx hospital validate` runs locally, plus
 * what routing needs (service period, encounter class, the hospital's identifier systems). Messages name
 * each element at fault and what is expected, never a value.
 */
import { problemLine, validateDischargeBundle, type IntakeConfig, type Json, type ProfilePurpose } from '../../profile/index.js';
import { isResidentIdentifier } from '../../profile/resident-id.js';
import { nestsDeeperThan } from '../../keys/json-guard.js';
import { InvalidInput, TooLarge } from '../errors.js';

/** Problems listed in one refusal; the rest are counted. */
const MAX_LISTED = 8;
/** Deep enough for any real bundle (extensions of extensions included), shallow enough for recursive walks. */
export const MAX_NESTING = 64;
// The FHIR `date` grammar: a year, year-month or full date.
const FHIR_DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;

export interface ValidatedBundle {
  bundle: { resourceType: 'Bundle'; entry: Array<{ resource: Record<string, unknown> }> } & Record<string, unknown>;
  /** True when an intake mapping filled in an amount (`bundle` has it; the submitted bytes do not). */
  mapped: boolean;
  /** The resident ID as found; the caller hashes it at once and lets go of it. */
  residentId: string;
  encounterClass: string;
  serviceStart: number;
  serviceEnd: number;
  /** Identifier systems the hospital uses for its own numbers (MRN, visit), for the scrubbers. */
  identifierSystems: string[];
}

export interface BundleRules {
  maxBytes: number;
  purpose: ProfilePurpose;
  intake: IntakeConfig;
  hospitalId: string;
}

function fail(message: string): never {
  throw new InvalidInput(message);
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A FHIR `date` that names a day of the calendar (no month 13, no 30 February). */
function checkDate(value: unknown, field: string): void {
  if (typeof value !== 'string' || !FHIR_DATE.test(value)) fail(`${field} must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)`);
  const [year, month, day] = value.split('-').map(Number) as [number, number?, number?];
  if (day !== undefined && new Date(Date.UTC(year, month! - 1, day)).getUTCDate() !== day) fail(`${field} is not a day of the calendar`);
}

export function validateBundle(bytes: Uint8Array, rules: BundleRules): ValidatedBundle {
  if (bytes.length === 0) fail('bundle is empty');
  if (bytes.length > rules.maxBytes) throw new TooLarge(`bundle is ${bytes.length} bytes; the limit is ${rules.maxBytes}`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail('bundle is not valid JSON');
  }
  // Before any recursive walk: 100,000 levels of `extension` or `contained` would overflow the stack.
  if (nestsDeeperThan(parsed, MAX_NESTING)) fail(`bundle nests deeper than ${MAX_NESTING} levels`);
  const result = validateDischargeBundle(parsed, { purpose: rules.purpose, config: rules.intake, hospitalId: rules.hospitalId });
  if (result.problems.length > 0 || result.residentId === undefined) {
    const listed = result.problems.slice(0, MAX_LISTED).map(problemLine).join('; ');
    const more = result.problems.length > MAX_LISTED ? `; and ${result.problems.length - MAX_LISTED} more` : '';
    fail(`bundle does not meet the discharge profile for ${rules.purpose}: ${listed}${more}`);
  }
  const bundle = parsed as ValidatedBundle['bundle'];
  const resources = bundle.entry.map((e) => e.resource);
  const encounter = resources.find((r) => r['resourceType'] === 'Encounter')!;
  const period = encounter['period'] as { start: string; end: string };
  const patient = resources.find((r) => r['resourceType'] === 'Patient');
  if (patient?.['birthDate'] !== undefined) checkDate(patient['birthDate'], 'Patient.birthDate');
  const identifierSystems = [
    ...new Set(
      resources
        .flatMap((r) => (Array.isArray(r['identifier']) ? r['identifier'].filter(isObject) : []))
        .filter((id) => !isResidentIdentifier(id, rules.intake.residentId))
        .map((id) => id['system'])
        .filter((s): s is string => typeof s === 'string'),
    ),
  ];
  return {
    bundle,
    mapped: result.mapped.length > 0,
    residentId: result.residentId,
    encounterClass: (encounter['class'] as { code: string }).code,
    serviceStart: Date.parse(period.start),
    serviceEnd: Date.parse(period.end),
    identifierSystems,
  };
}
