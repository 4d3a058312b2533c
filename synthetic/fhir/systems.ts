/** Code systems, identifier systems and extension URLs the generated bundles use. */
export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.1';
export const SOCIAL_INSURANCE_CARD_SYSTEM = 'urn:hdx:cn:social-insurance-card';
export const mrnSystem = (hospitalId: string) => `https://${hospitalId}.hospital.hdx.local/mrn`;
export const visitSystem = (hospitalId: string) => `https://${hospitalId}.hospital.hdx.local/visit`;
export const HOSPITAL_ID_SYSTEM = 'https://hdx.local/fhir/NamingSystem/hospital';

export const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const V2_CONTACT_ROLE = 'http://terminology.hl7.org/CodeSystem/v2-0131';
export const V3_ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const DIAGNOSIS_ROLE = 'http://terminology.hl7.org/CodeSystem/diagnosis-role';
export const DISCHARGE_DISPOSITION = 'http://terminology.hl7.org/CodeSystem/discharge-disposition';
export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const COVERAGE_CLASS = 'http://terminology.hl7.org/CodeSystem/coverage-class';
export const SUBSCRIBER_RELATIONSHIP = 'http://terminology.hl7.org/CodeSystem/subscriber-relationship';

export const CHARGE_CATEGORY_SYSTEM = 'https://hdx.local/fhir/CodeSystem/charge-category';
export const COVERAGE_TYPE_SYSTEM = 'https://hdx.local/fhir/CodeSystem/coverage-type';
export const SOCIAL_INSURANCE_PAID_URL = 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid';
export const insurerPolicySystem = (insurerId: string) => `https://hdx.local/fhir/insurer/${insurerId}/policy`;
export const INSURER_ID_SYSTEM = 'https://hdx.local/fhir/NamingSystem/insurer';

export const XHTML_NAMESPACE = 'http://www.w3.org/1999/xhtml';

export const money = (fen: number) => ({ value: fen / 100, currency: 'CNY' });
export const reference = (urn: string, display?: string) => (display === undefined ? { reference: urn } : { reference: urn, display });

/** A FHIR narrative: paragraphs of escaped text in an XHTML div. */
export function narrative(paragraphs: readonly string[]): { status: 'generated'; div: string } {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { status: 'generated', div: `<div xmlns="${XHTML_NAMESPACE}">${paragraphs.map((p) => `<p>${escape(p)}</p>`).join('')}</div>` };
}
