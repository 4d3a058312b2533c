/** The Patient: names, the three identifiers, telecom, home address and next of kin. */
import type { FhirResource, SyntheticPatient, SyntheticRelative } from '../types.js';
import { splitName } from '../vocabulary/names.js';
import type { RecordContext } from './context.js';
import {
  mrnSystem, RESIDENT_ID_SYSTEM, SOCIAL_INSURANCE_CARD_SYSTEM, V2_CONTACT_ROLE, V2_IDENTIFIER_TYPE, V3_ROLE_CODE,
} from './systems.js';

const ROLE_CODES: Readonly<Record<string, readonly [string, string]>> = {
  配偶: ['SPS', 'spouse'],
  父亲: ['FTH', 'father'],
  母亲: ['MTH', 'mother'],
  儿子: ['SON', 'natural son'],
  女儿: ['DAU', 'natural daughter'],
};

export function addressText(patient: SyntheticPatient): string {
  const { province, city, district, line } = patient.address;
  return `${province}${city}${district}${line}`;
}

export function patientResource(ctx: RecordContext): FhirResource {
  const { patient, hospital } = ctx;
  return {
    resourceType: 'Patient',
    id: ctx.urns.patient.id,
    identifier: [
      {
        use: 'official',
        type: { coding: [{ system: V2_IDENTIFIER_TYPE, code: 'NI', display: 'National unique individual identifier' }], text: '居民身份证' },
        system: RESIDENT_ID_SYSTEM,
        value: patient.nationalId,
      },
      {
        use: 'usual',
        type: { coding: [{ system: V2_IDENTIFIER_TYPE, code: 'MR', display: 'Medical record number' }], text: '病案号' },
        system: mrnSystem(hospital.id),
        value: patient.mrn,
      },
      {
        use: 'secondary',
        type: { coding: [{ system: V2_IDENTIFIER_TYPE, code: 'SN', display: 'Subscriber Number' }], text: '医保卡号' },
        system: SOCIAL_INSURANCE_CARD_SYSTEM,
        value: patient.socialInsuranceNumber,
      },
    ],
    active: true,
    name: [{ use: 'official', text: patient.name, family: patient.surname, given: [patient.givenName] }],
    telecom: [
      { system: 'phone', value: patient.phone, use: 'mobile' },
      ...(patient.email !== undefined ? [{ system: 'email', value: patient.email, use: 'home' }] : []),
    ],
    gender: patient.gender,
    birthDate: patient.birthDate,
    address: [
      {
        use: 'home',
        type: 'physical',
        text: addressText(patient),
        line: [patient.address.line],
        city: patient.address.city,
        district: patient.address.district,
        state: patient.address.province,
        postalCode: patient.address.postalCode,
        country: 'CN',
      },
    ],
    contact: patient.relatives.map(contactOf),
  };
}

function contactOf(relative: SyntheticRelative): Record<string, unknown> {
  const role = ROLE_CODES[relative.relationship];
  const { family, given } = splitName(relative.name);
  return {
    relationship: [
      { coding: [{ system: V2_CONTACT_ROLE, code: 'N', display: 'Next-of-Kin' }] },
      {
        ...(role !== undefined ? { coding: [{ system: V3_ROLE_CODE, code: role[0], display: role[1] }] } : {}),
        text: relative.relationship,
      },
    ],
    name: { text: relative.name, family, given: [given] },
    telecom: [{ system: 'phone', value: relative.phone, use: 'mobile' }],
  };
}
