/**
 * Which Patient.identifier is the resident ID, and whether it is one. The national OIDs come from the
 * WS/T 500 CDA header templates (患者身份证号标识 `2.16.156.10011.1.3`); `2.16.156.10011.1.1` is what hdx
 * accepted before (it is the WS/T 500 *document* serial OID) and stays accepted by default so that existing
 * integrations keep working. The check character is always verified (GB 11643, ISO 7064 MOD 11-2).
 */
import { isObject, type Json, type Problem } from './types.js';

export const NATIONAL_ID_OID = 'urn:oid:2.16.156.10011.1.3';
export const LEGACY_RESIDENT_ID_OID = 'urn:oid:2.16.156.10011.1.1';
export const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';

export interface ResidentIdRule {
  /** Identifier.system values that mean "resident ID". */
  systems: string[];
  /** v2-0203 identifier type codes that mean "resident ID" whatever the system (NNCHN: national ID, China). */
  typeCodes: string[];
}

export const DEFAULT_RESIDENT_ID_RULE: ResidentIdRule = {
  systems: [NATIONAL_ID_OID, LEGACY_RESIDENT_ID_OID],
  typeCodes: ['NNCHN'],
};

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';

/** ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function mod112CheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS.charAt(sum % 11);
}

/** Spaces and hyphens dropped, a lower-case x raised: the form consents are keyed by. */
export function normaliseResidentId(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * 18 characters, 17 digits and the right check character: 居民身份证, the 港澳台居民居住证 (region codes
 * 81/82/83) and the 2023 外国人永久居留身份证 (first digit 9) all have this form. The gateway's consent
 * index also checks the region and birth date (gateway/consent/patient-id.ts).
 */
export function hasValidCheckCharacter(id: string): boolean {
  return /^\d{17}[\dX]$/.test(id) && mod112CheckCharacter(id.slice(0, 17)) === id.charAt(17);
}



function typeCodesOf(identifier: Json): string[] {
  const type = identifier['type'];
  if (!isObject(type) || !Array.isArray(type['coding'])) return [];
  return type['coding']
    .filter((c): c is Json => isObject(c) && c['system'] === V2_IDENTIFIER_TYPE && typeof c['code'] === 'string')
    .map((c) => c['code'] as string);
}

export function isResidentIdentifier(identifier: Json, rule: ResidentIdRule): boolean {
  return (
    (typeof identifier['system'] === 'string' && rule.systems.includes(identifier['system'])) ||
    typeCodesOf(identifier).some((code) => rule.typeCodes.includes(code))
  );
}

/** The one resident ID of the Patient at `path`, or problems naming what is expected (never the value). */
export function residentIdOf(
  patient: Json,
  path: string,
  rule: ResidentIdRule,
): { residentId: string; problems: [] } | { residentId?: undefined; problems: Problem[] } {
  const identifiers = Array.isArray(patient['identifier']) ? patient['identifier'].filter(isObject) : [];
  const matches = identifiers
    .map((identifier, index) => ({ identifier, index }))
    .filter(({ identifier }) => isResidentIdentifier(identifier, rule));
  const expected = `must hold exactly one resident ID: an identifier with system ${rule.systems.join(' or ')}${
    rule.typeCodes.length > 0 ? `, or type ${rule.typeCodes.map((c) => `v2-0203#${c}`).join(' or ')}` : ''
  }`;
  const values = new Set(
    matches.map(({ identifier }) => (typeof identifier['value'] === 'string' ? normaliseResidentId(identifier['value']) : '')),
  );
  if (matches.length === 0) return { problems: [{ path: `${path}.identifier`, expected }] };
  if (values.size > 1) return { problems: [{ path: `${path}.identifier`, expected: `${expected} (found differing values)` }] };
  const { index } = matches[0]!;
  const value = [...values][0]!;
  if (!hasValidCheckCharacter(value)) {
    return {
      problems: [
        {
          path: `${path}.identifier[${index}].value`,
          expected: 'must be an 18-character resident ID (GB 11643) ending in its ISO 7064 MOD 11-2 check character',
        },
      ],
    };
  }
  return { residentId: value, problems: [] };
}
