/**
 * First-line validation of a submitted FHIR R4 Bundle: enough structure for the gateway to route it
 * (one Patient with a resident ID, one Encounter with its service period) and nothing malformed that a
 * later stage would trip on. Messages name the element at fault, never a value.
 */
import { InvalidInput, TooLarge } from '../errors.js';

export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.1';
const MAX_ENTRIES = 5_000;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface ValidatedBundle {
  bundle: { resourceType: 'Bundle'; entry: Array<{ resource: Record<string, unknown> }> } & Record<string, unknown>;
  /** The resident ID as found; the caller hashes it at once and lets go of it. */
  residentId: string;
  encounterClass: string;
  serviceStart: number;
  serviceEnd: number;
  /** Identifier systems the hospital uses for its own numbers (MRN, visit), for the scrubbers. */
  identifierSystems: string[];
}

function fail(message: string): never {
  throw new InvalidInput(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseInstant(value: unknown, field: string): number {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value)) {
    fail(`${field} must be a FHIR date or dateTime`);
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) fail(`${field} is not a valid date`);
  return time;
}

export function validateBundle(bytes: Uint8Array, maxBytes: number): ValidatedBundle {
  if (bytes.length === 0) fail('bundle is empty');
  if (bytes.length > maxBytes) throw new TooLarge(`bundle is ${bytes.length} bytes; the limit is ${maxBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    fail('bundle is not valid JSON');
  }
  if (!isObject(parsed) || parsed.resourceType !== 'Bundle') fail('bundle.resourceType must be "Bundle"');
  const entries = parsed.entry;
  if (!Array.isArray(entries) || entries.length === 0) fail('bundle.entry must be a non-empty array');
  if (entries.length > MAX_ENTRIES) fail(`bundle.entry has more than ${MAX_ENTRIES} entries`);

  const patients: Record<string, unknown>[] = [];
  const encounters: Record<string, unknown>[] = [];
  entries.forEach((entry: unknown, i) => {
    if (!isObject(entry) || !isObject(entry.resource)) fail(`bundle.entry[${i}].resource must be an object`);
    const resource = entry.resource;
    if (typeof resource.resourceType !== 'string' || !/^[A-Z][A-Za-z]{1,63}$/.test(resource.resourceType)) {
      fail(`bundle.entry[${i}].resource.resourceType is missing or invalid`);
    }
    if (resource.id !== undefined && (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id))) {
      fail(`bundle.entry[${i}].resource.id is not a valid FHIR id`);
    }
    if (resource.resourceType === 'Patient') patients.push(resource);
    if (resource.resourceType === 'Encounter') encounters.push(resource);
  });
  if (patients.length !== 1) fail('bundle must contain exactly one Patient');
  if (encounters.length !== 1) fail('bundle must contain exactly one Encounter');
  const patient = patients[0]!;
  const encounter = encounters[0]!;

  const identifiers = Array.isArray(patient.identifier) ? patient.identifier.filter(isObject) : [];
  const residentIds = identifiers.filter((id) => id.system === RESIDENT_ID_SYSTEM);
  if (residentIds.length !== 1 || typeof residentIds[0]!.value !== 'string') {
    fail(`Patient.identifier must hold exactly one resident ID (system ${RESIDENT_ID_SYSTEM})`);
  }
  const identifierSystems = [
    ...new Set(
      entries
        .flatMap((e: { resource: Record<string, unknown> }) =>
          Array.isArray(e.resource.identifier) ? e.resource.identifier.filter(isObject) : [],
        )
        .map((id: Record<string, unknown>) => id.system)
        .filter((s: unknown): s is string => typeof s === 'string' && s !== RESIDENT_ID_SYSTEM),
    ),
  ];

  const period = encounter.period;
  if (!isObject(period)) fail('Encounter.period is required');
  const serviceStart = parseInstant(period.start, 'Encounter.period.start');
  const serviceEnd = parseInstant(period.end, 'Encounter.period.end');
  if (serviceEnd < serviceStart) fail('Encounter.period.end is before its start');
  const encounterClass = isObject(encounter.class) && typeof encounter.class.code === 'string' ? encounter.class.code : '';
  if (!/^[A-Z]{2,8}$/.test(encounterClass)) fail('Encounter.class.code is required (v3 ActCode, e.g. IMP or AMB)');

  return {
    bundle: parsed as ValidatedBundle['bundle'],
    residentId: residentIds[0]!.value as string,
    encounterClass,
    serviceStart,
    serviceEnd,
    identifierSystems,
  };
}
