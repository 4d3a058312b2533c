/** A synthetic Shenzhen resident: name, resident ID, mobile, address, relatives, MRN and 医保 card. */
import { ageAt, chinaTime, DAY_MS, fhirDate } from './china-time.js';
import {
  medicalRecordNumber, mobileNumber, residentId, socialInsuranceNumber,
} from './identifiers.js';
import type { SeededRandom } from './random.js';
import type { Gender, SyntheticPatient, SyntheticRelative } from './types.js';
import { FEMALE_GIVEN_CHARACTERS, MALE_GIVEN_CHARACTERS, SURNAMES, splitName } from './vocabulary/names.js';
import { CITY, DISTRICT_WEIGHTS, ESTATES, GUANGDONG_REGION_CODES, PROVINCE } from './vocabulary/places.js';

/** Ages are drawn against a fixed date, not the clock, so that a seed always gives the same patient. */
const REFERENCE_DATE = chinaTime(2024, 7, 1);

const AGE_BANDS: ReadonlyArray<readonly [readonly [number, number], number]> = [
  [[1, 17], 10], [[18, 44], 30], [[45, 64], 30], [[65, 90], 30],
];

export function chineseName(rng: SeededRandom, gender: Gender, surname = rng.weighted(SURNAMES)): {
  surname: string; givenName: string; name: string;
} {
  const characters = gender === 'male' ? MALE_GIVEN_CHARACTERS : FEMALE_GIVEN_CHARACTERS;
  const givenName = rng.chance(0.35) ? rng.pick(characters) : rng.pick(characters) + rng.pick(characters);
  return { surname, givenName, name: surname + givenName };
}

export function generatePatient(rng: SeededRandom): SyntheticPatient {
  const gender: Gender = rng.chance(0.5) ? 'male' : 'female';
  const [minAge, maxAge] = rng.weighted(AGE_BANDS);
  const birthDate = fhirDate(REFERENCE_DATE - rng.int(minAge * 365 + 1, maxAge * 365 + 364) * DAY_MS);
  const { surname, givenName, name } = chineseName(rng, gender);
  const district = rng.weighted(DISTRICT_WEIGHTS);
  const birthRegion = rng.chance(0.5) ? district.regionCode : rng.pick(GUANGDONG_REGION_CODES);
  const age = ageAt(birthDate, REFERENCE_DATE);
  const email = age >= 16 && rng.chance(0.4) ? emailAddress(rng) : undefined;
  return {
    name,
    surname,
    givenName,
    gender,
    birthDate,
    nationalId: residentId(rng, birthRegion, birthDate, gender),
    phone: mobileNumber(rng),
    ...(email !== undefined ? { email } : {}),
    address: {
      province: PROVINCE,
      city: CITY,
      district: district.name,
      line: `${rng.pick(district.streets)}${rng.int(1, 3999)}号${rng.pick(ESTATES)}${rng.int(1, 12)}栋${rng.int(2, 32)}${String(rng.int(1, 8)).padStart(2, '0')}室`,
      postalCode: rng.pick(district.postcodes),
    },
    relatives: relativesOf(rng, { name, surname, givenName, gender, age }),
    mrn: medicalRecordNumber(rng),
    socialInsuranceNumber: socialInsuranceNumber(rng),
  };
}

function emailAddress(rng: SeededRandom): string {
  if (rng.chance(0.5)) return `${rng.int(1, 9)}${rng.digits(rng.int(6, 9))}@qq.com`;
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let local = '';
  for (let i = rng.int(4, 8); i > 0; i--) local += letters.charAt(rng.int(0, 25));
  return `${local}${rng.digits(rng.int(0, 4))}@${rng.pick(['163.com', '126.com', 'foxmail.com', 'sina.com'])}`;
}

type Kin = { relationship: string; gender: Gender; sameSurname: boolean };

const SPOUSE = (gender: Gender): Kin => ({ relationship: '配偶', gender: gender === 'male' ? 'female' : 'male', sameSurname: false });
const FATHER: Kin = { relationship: '父亲', gender: 'male', sameSurname: true };
const MOTHER: Kin = { relationship: '母亲', gender: 'female', sameSurname: false };
// Children usually carry the father's surname: the patient's if he is the father.
const SON = (gender: Gender): Kin => ({ relationship: '儿子', gender: 'male', sameSurname: gender === 'male' });
const DAUGHTER = (gender: Gender): Kin => ({ relationship: '女儿', gender: 'female', sameSurname: gender === 'male' });

/** Plausible next of kin for the patient's age: parents for children, spouse and children for adults. */
function relativesOf(
  rng: SeededRandom,
  patient: { name: string; surname: string; givenName: string; gender: Gender; age: number },
): SyntheticRelative[] {
  const candidates: Kin[] =
    patient.age < 18 ? [FATHER, MOTHER]
    : patient.age < 35 ? [SPOUSE(patient.gender), FATHER, MOTHER]
    : patient.age < 60 ? [SPOUSE(patient.gender), SON(patient.gender), DAUGHTER(patient.gender)]
    : [SON(patient.gender), DAUGHTER(patient.gender), SPOUSE(patient.gender)];
  const kin = rng.sample(candidates, rng.int(1, 2));
  const relatives: SyntheticRelative[] = [];
  for (const { relationship, gender, sameSurname } of kin) {
    // Families avoid repeating a relative's given-name character; it also keeps every name distinct
    // and never a part of another, which leak tests rely on.
    const taken = [patient, ...relatives.map((relative) => ({ name: relative.name, givenName: splitName(relative.name).given }))];
    let candidate: { name: string; givenName: string };
    do {
      candidate = chineseName(rng, gender, sameSurname ? patient.surname : undefined);
    } while (taken.some((other) => sharesAnything(candidate, other)));
    relatives.push({ name: candidate.name, relationship, phone: mobileNumber(rng) });
  }
  return relatives;
}

function sharesAnything(a: { name: string; givenName: string }, b: { name: string; givenName: string }): boolean {
  return a.name.includes(b.name) || b.name.includes(a.name) || [...a.givenName].some((c) => b.givenName.includes(c));
}
