/** Synthetic bundles reshaped the ways hospitals send them, for the profile suites. */
import { LEGACY_SOCIAL_INSURANCE_PAID_URL } from '../../profile/intake.js';
import type { Json } from '../../profile/types.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';

export const HOSPITAL_EXTENSION = 'https://his.nanshan-people.example.cn/fhir/StructureDefinition/yb-tczf';

export function recordsFrom(seed: number) {
  const gen = createGenerator(seed);
  return (hospitalId = 'nanshan-people'): SyntheticRecord =>
    gen.dischargeRecord({ hospitalId, dischargeDate: new Date(Date.now() - 86_400_000) });
}

export const resources = (bundle: Json) => (bundle['entry'] as Array<{ resource: Json }>).map((e) => e.resource);
export const resourceOf = (bundle: Json, type: string) => resources(bundle).find((r) => r['resourceType'] === type)!;

/** A deep copy of the record's bundle. */
export const bundleOf = (r: SyntheticRecord): Json => structuredClone(r.bundle) as unknown as Json;

/** The resident-ID identifier under another system (and type codes), as a WS/T 500-minded HIS writes it. */
export function withResidentIdSystem(bundle: Json, system: string | undefined, typeCode?: string): Json {
  const identifier = (resourceOf(bundle, 'Patient')['identifier'] as Json[])[0]!;
  if (system === undefined) delete identifier['system'];
  else identifier['system'] = system;
  if (typeCode !== undefined) identifier['type'] = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: typeCode }] };
  return bundle;
}

/** The 医保 share moved from hdx's old extension to the hospital's own URL. */
export function withHospitalExtension(bundle: Json, url = HOSPITAL_EXTENSION): Json {
  for (const resource of resources(bundle)) {
    for (const ext of (resource['extension'] as Json[] | undefined) ?? []) if (ext['url'] === LEGACY_SOCIAL_INSURANCE_PAID_URL) ext['url'] = url;
  }
  return bundle;
}

/** No Invoice, no 医保 share anywhere: the amounts a direct settlement needs are gone. */
export function withoutAmounts(bundle: Json): Json {
  bundle['entry'] = (bundle['entry'] as Array<{ resource: Json }>).filter((e) => e.resource['resourceType'] !== 'Invoice');
  return withHospitalExtension(bundle, 'https://his.example.cn/fhir/StructureDefinition/unmapped');
}
