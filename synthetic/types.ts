/** The generator's public types. FHIR shapes are loose on purpose: tests read them as plain JSON. */

export type FhirResource = { resourceType: string; id?: string; [key: string]: unknown };

export type FhirBundle = {
  resourceType: 'Bundle';
  type: string;
  id?: string;
  entry: Array<{ fullUrl?: string; resource: FhirResource }>;
  [key: string]: unknown;
};

export type Gender = 'male' | 'female';
export type EncounterClass = 'IMP' | 'AMB';

export interface SyntheticRelative {
  name: string;
  /** In Chinese, as written on forms: 配偶, 父亲, 母亲, 儿子, 女儿, 兄弟, 姐妹. */
  relationship: string;
  phone: string;
}

export interface SyntheticPatient {
  name: string;
  surname: string;
  givenName: string;
  gender: Gender;
  /** YYYY-MM-DD */
  birthDate: string;
  nationalId: string;
  phone: string;
  email?: string;
  address: { province: string; city: string; district: string; line: string; postalCode: string };
  relatives: SyntheticRelative[];
  mrn: string;
  socialInsuranceNumber: string;
}

export interface SyntheticRecord {
  bundle: FhirBundle;
  patient: SyntheticPatient;
  encounterClass: EncounterClass;
  /** FHIR dateTime with +08:00 offset. */
  serviceStart: string;
  serviceEnd: string;
  /** CNY, two decimals: the sum of the ChargeItems, equal to Invoice.totalGross. */
  totalCharges: number;
  /** CNY, two decimals: what 医保 paid, as in the social-insurance Coverage's extension. */
  socialInsurancePaid: number;
  /** Every planted identifying value, exactly as written somewhere in the bundle: for leak tests. */
  identifiers: string[];
}

export interface DischargeRecordOptions {
  hospitalId: string;
  hospitalName?: string;
  patient?: SyntheticPatient;
  encounterClass?: EncounterClass;
  /** Adds a DocumentReference discharge summary and a Patient narrative. */
  withNote?: boolean;
  dischargeDate?: Date;
  /** Also plants identifiers in extensions, notes, displays, narratives and an unfamiliar identifier. */
  plantAwkwardIdentifiers?: boolean;
  /** Also writes the patient's own values in variant forms (full-width, 138 1234 5678, 张 三) in notes. */
  plantVariantForms?: boolean;
}
